/*
 * problem.h - the API's one error body: RFC 9457 problem details.
 *
 * Every error the API sends is application/problem+json built here, so
 * that clients parse one shape and nobody hand-writes JSON:
 *
 *     {"type": "https://msp-gateway.dev/problems/validation",
 *      "title": "Invalid ticket", "status": 422,
 *      "detail": "The ticket has 2 invalid fields.",
 *      "errors": [{"field": "priority", "message": "must be P1 to P4"}]}
 *
 * A problem without a type of its own is "about:blank", whose title is the
 * HTTP reason phrase (RFC 9457, section 4.2.1).
 */
#ifndef MSP_PROBLEM_H
#define MSP_PROBLEM_H

#include "common/errors.h"

#include <jansson.h>

/* Problem types are this prefix followed by a slug such as "validation". */
#define MSP_PROBLEM_TYPE_BASE "https://msp-gateway.dev/problems/"

/*
 * Builds the problem document as compact JSON.
 *
 *   status     the HTTP status code; also sent as "status".
 *   type_slug  the problem type's slug, or NULL for "about:blank".
 *   title      a short summary; NULL means the reason phrase of status
 *              (omitted when status has none).
 *   detail     this occurrence in words, or NULL to leave it out.
 *   errs       field errors for "errors", or NULL; errors that did not fit
 *              the list are counted in "more_errors".
 *   extra      an object whose members are added (RFC 9457 extension
 *              members, such as the rule that refused a move), or NULL;
 *              they never replace the members above.
 *
 * Text may come from a request: invalid UTF-8 is replaced with U+FFFD
 * rather than failing the response.  Returns a NUL-terminated string
 * allocated with malloc() (free it with free()), or NULL when out of
 * memory.
 */
char *msp_problem_json(int status, const char *type_slug, const char *title,
                       const char *detail, const msp_errors_t *errs, const json_t *extra);

#endif
