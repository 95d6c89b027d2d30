# SPDX-License-Identifier: 0BSD
# A private sshd on 127.0.0.1 for the tests and benchmarks of remote copies
# (sourced by tests/remote.bats and bench/remote). It runs as the user who
# starts it, listens only on 127.0.0.1, takes only the key it made, and is
# stopped by its pid; nothing of the system's own sshd (config, keys, port)
# is used or touched.
#
#   sshd_start DIR   make DIR's keys and sshd_config, start sshd, wait (10 s
#                    at most) until a real `ssh ... true` gets through, and
#                    export SSHD_PID, SSHD_PORT and PTOOLS_TEST_SSH, the
#                    remote shell command for `pcopy -e "$PTOOLS_TEST_SSH"`
#                    and `rsync -e "$PTOOLS_TEST_SSH"`:
#                      ssh -p PORT -i DIR/id_ed25519 -o StrictHostKeyChecking=no
#                      -o UserKnownHostsFile=/dev/null -o BatchMode=yes
#                      -o LogLevel=ERROR -o Compression=no
#                    (one line; the host to give it is 127.0.0.1). DIR must
#                    exist, be absolute or relative, and hold no space (the
#                    command is split into words on spaces): a short
#                    mktemp -d /tmp/ptsshd.XXXXXX does. sshd logs to
#                    DIR/sshd.log. Returns 1, saying why on stderr, when
#                    /usr/sbin/sshd, ssh or ssh-keygen is missing or sshd does
#                    not come up (callers skip); then nothing is left running.
#   sshd_stop        stop the sshd sshd_start started (by SSHD_PID), and
#                    its sessions and the commands they still run (by their
#                    pids), wait until they are gone, and unset the three
#                    variables. Safe to call when none runs.
#
# Both work under set -euo pipefail (as a bench script may run them).
#
# DIR's files: ssh_host_ed25519_key(.pub), id_ed25519(.pub), authorized_keys,
# sshd_config, sshd.pid, sshd.log; DIR itself is the caller's to remove.

# _sshd_gone PID: whether process PID has ended (no such process, or a
# zombie that nothing has reaped yet).
_sshd_gone() {
	local state
	[ -r "/proc/$1/stat" ] || return 0
	state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
}

# _sshd_free_port: print a TCP port on 127.0.0.1 that nothing listens on now.
_sshd_free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# _sshd_descendants PID: the pids of PID's children, their children and so
# on (an sshd's sessions and the commands they run), one a line.
_sshd_descendants() {
	local kid
	for kid in $(cat "/proc/$1/task/"*/children 2>/dev/null); do
		echo "$kid"
		_sshd_descendants "$kid"
	done
}

# _sshd_kill PID: end PID, then its sessions and what they run (a remote
# command a failed test left behind), by their pids; wait until all are
# gone (5 s, then SIGKILL).
_sshd_kill() {
	local pid=$1 rest i k
	rest=$(_sshd_descendants "$pid")
	kill -TERM "$pid" 2>/dev/null || true
	for k in $rest; do
		kill -TERM "$k" 2>/dev/null || true
	done
	for ((i = 0; i < 50; i++)); do
		_sshd_gone "$pid" && break
		sleep 0.1
	done
	for k in "$pid" $rest; do
		for ((i = 0; i < 50; i++)); do
			_sshd_gone "$k" && break
			sleep 0.1
		done
		_sshd_gone "$k" || kill -KILL "$k" 2>/dev/null || true
	done
	wait "$pid" 2>/dev/null || true
	return 0
}

sshd_start() {
	local dir=${1:-} user port try deadline
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		echo "sshd_start: '$dir' is not a directory" >&2
		return 1
	fi
	case $dir in
	*[[:space:]]*)
		echo "sshd_start: '$dir' holds a space: the ssh command line would be split there" >&2
		return 1 ;;
	esac
	dir=$(cd "$dir" && pwd) || return 1
	local prog
	for prog in /usr/sbin/sshd ssh ssh-keygen /usr/bin/python3; do
		if ! command -v "$prog" >/dev/null; then
			echo "sshd_start: $prog is not installed (Debian: openssh-server, openssh-client)" >&2
			return 1
		fi
	done
	user=$(id -un) || return 1
	rm -f "$dir/ssh_host_ed25519_key" "$dir/ssh_host_ed25519_key.pub" \
		"$dir/id_ed25519" "$dir/id_ed25519.pub"
	if ! ssh-keygen -q -N '' -t ed25519 -C ptools-test-host -f "$dir/ssh_host_ed25519_key" </dev/null ||
		! ssh-keygen -q -N '' -t ed25519 -C ptools-test-user -f "$dir/id_ed25519" </dev/null; then
		echo "sshd_start: ssh-keygen failed" >&2
		return 1
	fi
	cp "$dir/id_ed25519.pub" "$dir/authorized_keys" || return 1
	# sshd (as root) wants its privilege separation directory.
	[ -d /run/sshd ] || mkdir -m 0755 -p /run/sshd 2>/dev/null || true

	# A port found free may be taken before sshd binds it: try three.
	for try in 1 2 3; do
		port=$(_sshd_free_port) || return 1
		cat > "$dir/sshd_config" <<-EOF
			# A test sshd: 127.0.0.1 only, this user's test key only.
			ListenAddress 127.0.0.1
			Port $port
			AddressFamily inet
			HostKey $dir/ssh_host_ed25519_key
			PidFile $dir/sshd.pid
			AuthorizedKeysFile $dir/authorized_keys
			AllowUsers $user
			PermitRootLogin prohibit-password
			PubkeyAuthentication yes
			AuthenticationMethods publickey
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			HostbasedAuthentication no
			GSSAPIAuthentication no
			KerberosAuthentication no
			StrictModes no
			UsePAM no
			UseDNS no
			AcceptEnv none
			PermitUserEnvironment no
			PermitUserRC no
			PrintMotd no
			PrintLastLog no
			Banner none
			X11Forwarding no
			AllowAgentForwarding no
			AllowTcpForwarding no
			PermitTunnel no
			MaxStartups 64
			MaxSessions 64
			LoginGraceTime 30
			Subsystem sftp internal-sftp
		EOF
		# -D: stay in the foreground, so $! is sshd; -e: log to stderr.
		# Not on bats' descriptor 3, which would hold a test run open.
		/usr/sbin/sshd -D -e -f "$dir/sshd_config" </dev/null >"$dir/sshd.log" 2>&1 3>&- &
		SSHD_PID=$!
		_SSHD_CONFIG=$dir/sshd_config
		export _SSHD_CONFIG
		SSHD_PORT=$port
		PTOOLS_TEST_SSH="ssh -p $port -i $dir/id_ed25519 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o Compression=no"
		export SSHD_PID SSHD_PORT PTOOLS_TEST_SSH
		deadline=$((SECONDS + 10))
		while ((SECONDS <= deadline)); do
			_sshd_gone "$SSHD_PID" && break
			if $PTOOLS_TEST_SSH -o ConnectTimeout=2 127.0.0.1 true \
				</dev/null >/dev/null 2>>"$dir/ssh-probe.log" 3>&-; then
				return 0
			fi
			sleep 0.1
		done
		if ! _sshd_gone "$SSHD_PID"; then
			# Up but not answering in 10 s: another try would not help.
			_sshd_kill "$SSHD_PID"
			unset SSHD_PID SSHD_PORT PTOOLS_TEST_SSH
			echo "sshd_start: sshd on 127.0.0.1:$port did not let ssh in within 10 s; $dir/sshd.log and $dir/ssh-probe.log say:" >&2
			tail -n 5 "$dir/sshd.log" "$dir/ssh-probe.log" >&2
			return 1
		fi
		wait "$SSHD_PID" 2>/dev/null || true
		unset SSHD_PID SSHD_PORT PTOOLS_TEST_SSH
		grep -q 'Address already in use' "$dir/sshd.log" || break
	done
	echo "sshd_start: /usr/sbin/sshd did not start; $dir/sshd.log says:" >&2
	tail -n 5 "$dir/sshd.log" >&2
	return 1
}

sshd_stop() {
	local pid=${SSHD_PID:-}
	[ -n "$pid" ] || return 0
	# Only the sshd that sshd_start started: its pid, still an sshd with
	# its config (a pid reused by another process since is left alone).
	# sshd rewrites its command line as "sshd: /usr/sbin/sshd -D -e -f
	# CONFIG [listener] ...".
	if ! _sshd_gone "$pid" &&
		tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null |
		grep -qF "/usr/sbin/sshd -D -e -f ${_SSHD_CONFIG:-/}"; then
		_sshd_kill "$pid"
	fi
	unset SSHD_PID SSHD_PORT PTOOLS_TEST_SSH _SSHD_CONFIG
	return 0
}
