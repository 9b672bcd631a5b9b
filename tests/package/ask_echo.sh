#!/usr/bin/env bash
# ask_echo.sh NETNS ADDR: from namespace NETNS, send 5 UDP datagrams to
# ADDR port 7 and print how many came back unchanged (0.5 s each).
# Shared by test_package.sh and boot_unit.sh.
set -euo pipefail
ip netns exec "$1" python3 - "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
got = 0
for i in range(5):
    s.sendto(b"hello %d" % i, (sys.argv[1], 7))
    try:
        got += s.recv(2048) == b"hello %d" % i
    except socket.timeout:
        pass
print(got)
PY
