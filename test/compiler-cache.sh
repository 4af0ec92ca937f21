# Sourced by test/setup.sh and test/native/asan.sh: compile the addon through ccache, its cache kept with the
# lab's artefacts, so a fresh clone (CI) reuses what an earlier checkout compiled instead of spending ~35 s of
# one core per build. Paths under the checkout are hashed relative to it, so a clone elsewhere hits the cache.
# OPENISCSI_CCACHE=0 compiles without it.
if [ "${OPENISCSI_CCACHE:-1}" = 1 ] && command -v ccache >/dev/null; then
  export CCACHE_DIR=${CCACHE_DIR:-${OPENISCSI_LAB_CACHE:-/var/cache/openiscsi-lab}/ccache}
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-1G}
  export CC="ccache gcc" CXX="ccache g++"
  mkdir -p "$CCACHE_DIR"
fi
