#!/bin/sh
# Passes flags through to `anonymiser serve` (docker run IMAGE -a face -a license-plate --provider cuda),
# or runs another command when one is named (docker run IMAGE process /data/input /data/output).
set -e
case "${1:-}" in
  serve|process|eval|help|--help|-h|--version|-V) exec node /app/bin/anonymiser "$@" ;;
  *) exec node /app/bin/anonymiser serve "$@" ;;
esac
