# shellcheck shell=bash
# Sourced by the scripts that need root (scripts/demo, test, run and install-deps), so that
# the README's commands work as written both on a root machine without sudo (Debian's
# default when a root password was set at install) and for a user with sudo.
#
#   become_root NAME WHY "$@"
#
# As root: returns. Otherwise re-runs the calling script through sudo with the same
# arguments, keeping the environment that apt, npm and curl need behind a proxy or with a
# private CA (sudo would reset it); without sudo, exits 1 saying how to run it as root.
become_root() {
  local name=$1 why=$2 self var
  shift 2
  [[ $(id -u) == 0 ]] && return 0
  self=$(realpath "$0")
  if ! command -v sudo >/dev/null; then
    echo "$name: needs root ($why), and sudo is not installed: run it as root, e.g. su -c '$self'" >&2
    exit 1
  fi
  local keep=()
  for var in $(compgen -e); do
    case $var in
      http_proxy | https_proxy | no_proxy | all_proxy | HTTP_PROXY | HTTPS_PROXY | NO_PROXY | \
        ALL_PROXY | npm_config_* | NPM_CONFIG_* | NODE_EXTRA_CA_CERTS | SSL_CERT_FILE | \
        SSL_CERT_DIR | CURL_CA_BUNDLE | REQUESTS_CA_BUNDLE | CI | PODPATH_*)
        keep+=("$var")
        ;;
    esac
  done
  # sudo also replaces HOME, where the user's npm settings (registry, proxy, CA) are.
  if [[ -z ${npm_config_userconfig:-} && -f ${HOME:-}/.npmrc ]]; then
    export npm_config_userconfig=$HOME/.npmrc
    keep+=(npm_config_userconfig)
  fi
  local sudo_args=()
  if ((${#keep[@]})); then
    sudo_args+=("--preserve-env=$(IFS=,; echo "${keep[*]}")")
  fi
  echo "$name: needs root ($why): running it again with sudo" >&2
  exec sudo "${sudo_args[@]}" -- "$self" "$@"
}
