#!/usr/bin/env bash
#
# build-module.sh - build ngx_http_msp_module.so against Debian's nginx-dev.
#
#   deploy/build-module.sh BUILD_DIR [SANFLAGS]
#
# BUILD_DIR already holds libmsp.a (the Makefile builds it first); the
# module is linked against it and written to BUILD_DIR/nginx/objs/.
#
# nginx-dev ships headers and the configure scripts, not nginx's .c files:
# `make modules` compiles only our addon, and the .so loads into Debian's
# nginx binary because both are configured with --with-compat and the
# same flags (/usr/share/nginx/src/conf_flags).  nginx refuses to load a
# module whose signature differs, so the flags must come from that file.
#
# -Werror is deliberately not in --with-cc-opt: configure compiles its
# feature tests with those flags, and under -Werror some of them fail
# (pwrite(), strerrordesc_np()), which would silently configure a
# different nginx than the one we load into.  nginx's own gcc settings add
# -Werror to the flags used for the real build, so the module is still
# compiled with -Wall -Wextra -Werror.
#
# Quiet on success.  Configure runs only when the nginx sources, the
# flags, module/config, or the list of module files or service headers
# changed (module/config lists them).

set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 BUILD_DIR [SANFLAGS]" >&2
    exit 2
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
ngx_src=${NGX_SRC:-/usr/share/nginx/src}
sanflags=${2:-}

mkdir -p "$1"
build=$(cd "$1" && pwd)
dest=$build/nginx

export MSP_LIB=$build/libmsp.a

if [ ! -f "$MSP_LIB" ]; then
    echo "build-module.sh: $MSP_LIB is missing (run make $1/libmsp.a)" >&2
    exit 1
fi

if [ ! -f "$ngx_src/conf_flags" ]; then
    echo "build-module.sh: $ngx_src/conf_flags is missing (apt-get install nginx-dev)" >&2
    exit 1
fi

# shellcheck source=/dev/null
. "$ngx_src/conf_flags"

cc_opt="-g -O2 -Wall -Wextra${sanflags:+ $sanflags}"
ld_opt="$sanflags"

log=$build/nginx-configure.log

fingerprint() {
    (cd "$ngx_src" && find . -type f -printf '%P %s %T@\n' | LC_ALL=C sort)
}


# 1. A private copy of nginx's build tree, refreshed when nginx-dev changes
#    (configure writes into the tree, and /usr/share is not ours).

src_stamp=$(fingerprint | md5sum | cut -d' ' -f1)

if [ ! -f "$dest/.msp-src-stamp" ] \
   || [ "$(cat "$dest/.msp-src-stamp")" != "$src_stamp" ]
then
    rm -rf "$dest"
    mkdir -p "$dest"
    cp -a "$ngx_src/." "$dest/"
    echo "$src_stamp" > "$dest/.msp-src-stamp"
fi


# 2. Configure, unless already configured the same way.

conf_stamp=$(
    {
        echo "$src_stamp"
        printf '%s\n' "${NGX_CONF_FLAGS[@]}"
        echo "cc: $cc_opt"
        echo "ld: $ld_opt"
        echo "lib: $MSP_LIB"
        echo "repo: $repo"
        cat "$repo/module/config"
        (cd "$repo" && ls module services/*/*.h)
    } | md5sum | cut -d' ' -f1
)

if [ ! -f "$dest/objs/Makefile" ] || [ ! -f "$dest/.msp-conf-stamp" ] \
   || [ "$(cat "$dest/.msp-conf-stamp")" != "$conf_stamp" ]
then
    rm -f "$dest/.msp-conf-stamp"

    if ! (cd "$dest" && ./configure "${NGX_CONF_FLAGS[@]}" \
              --add-dynamic-module="$repo/module" \
              --with-cc-opt="$cc_opt" \
              --with-ld-opt="$ld_opt") > "$log" 2>&1
    then
        cat "$log" >&2
        [ -f "$dest/objs/autoconf.err" ] && tail -n 40 "$dest/objs/autoconf.err" >&2
        echo "build-module.sh: nginx configure failed (log: $log)" >&2
        exit 1
    fi

    echo "$conf_stamp" > "$dest/.msp-conf-stamp"
fi


# 3. Build.  nginx's Makefile does not know the .so depends on libmsp.a,
#    so a newer library forces the link.

so=$dest/objs/ngx_http_msp_module.so

if [ -f "$so" ] && [ "$MSP_LIB" -nt "$so" ]; then
    rm -f "$so"
fi

out=$build/nginx-make.log

if ! make -C "$dest" -f objs/Makefile modules > "$out" 2>&1; then
    cat "$out" >&2
    echo "build-module.sh: building the module failed (log: $out)" >&2
    exit 1
fi

if [ ! -f "$so" ]; then
    echo "build-module.sh: make finished but $so is missing" >&2
    exit 1
fi
