#!/usr/bin/env bash
# The crash tests' test script (crash-workload.yaml): passes once the workload, pid 1 of the
# probe's PID namespace, has made all its checks and waits in pause(2), system call 34
# (/proc/1/syscall names the call a sleeping process is in). When the workload dies instead, the
# namespace's end kills this script; when it never waits there, the run timeout fails the probe.
set -u
while :; do
  # Unreadable: the workload is gone, and the namespace's end is about to kill this script.
  read -r number _ </proc/1/syscall 2>/dev/null || { sleep 5; exit 1; }
  [ "$number" = 34 ] && exit 0
  sleep 0.01
done
