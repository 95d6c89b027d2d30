#!/usr/bin/env bats
# SPDX-License-Identifier: 0BSD
# The Debian package (make deb): built once into a temporary directory,
# unpacked with dpkg -x into a scratch root (nothing is installed on the
# system), and its programs, man pages and completion tried from there. Also
# that VERSION and debian/changelog agree (make check-version).
load test_helper

ROOT=$BATS_TEST_DIRNAME/..

# make_clean ARGS...: make in the source tree without what an enclosing make
# passes down (make check's O=, BIN=, CFLAGS= and SAN_FLAGS= would otherwise
# reach the package build).
make_clean() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS -u LDFLAGS -u CPPFLAGS \
		make -C "$ROOT" --no-print-directory "$@"
}

setup_file() {
	export DEB_OUT=$BATS_FILE_TMPDIR/deb
	export DEB_LOG=$BATS_FILE_TMPDIR/deb.log
	export DEB_SKIP=
	if ! command -v dpkg-buildpackage > /dev/null; then
		DEB_SKIP="dpkg-buildpackage is missing (install dpkg-dev: .ci/install-deps)"
	elif ! command -v dh > /dev/null; then
		DEB_SKIP="dh is missing (install debhelper: .ci/install-deps)"
	else
		make_clean deb DEB_DIR="$DEB_OUT" > "$DEB_LOG" 2>&1
		echo $? > "$BATS_FILE_TMPDIR/deb.status"
	fi
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	VERSION=$(cat "$ROOT/VERSION")
}

# need_package: skip without the tools, fail if the build failed; sets DEB to
# the package and SCRATCH to a root it was unpacked into with dpkg -x.
need_package() {
	[ -z "$DEB_SKIP" ] || skip "$DEB_SKIP"
	if [ "$(cat "$BATS_FILE_TMPDIR/deb.status")" != 0 ]; then
		tail -n 40 "$DEB_LOG"
		fail "make deb failed (log above)"
	fi
	DEB=$DEB_OUT/ptools_${VERSION}_$(dpkg --print-architecture).deb
	assert_file_exists "$DEB"
	SCRATCH=$BATS_TEST_TMPDIR/root
	dpkg -x "$DEB" "$SCRATCH"
}

@test "package: make deb builds ptools_VERSION_ARCH.deb, its version VERSION's" {
	need_package
	run dpkg-deb -f "$DEB" Package Version Architecture
	assert_success
	assert_output "Package: ptools
Version: $VERSION
Architecture: $(dpkg --print-architecture)"
}

@test "package: Depends comes from the libraries the programs link (shlibs)" {
	need_package
	run dpkg-deb -f "$DEB" Depends
	assert_success
	assert_output --partial libc6
	assert_output --partial libssl
	assert_output --partial libxxhash
}

@test "package: it holds the four programs, their man pages and bash completion" {
	need_package
	run dpkg-deb -c "$DEB"
	assert_success
	local prog
	for prog in pfind phash pverify pcopy; do
		assert_output --regexp "x[^ ]* .* \./usr/bin/$prog"$'\n'
		assert_output --partial "./usr/share/man/man1/$prog.1.gz"
		assert_output --partial "./usr/share/bash-completion/completions/$prog"
		# A link to one file is as good as a copy for bash-completion.
		[ -f "$SCRATCH/usr/share/bash-completion/completions/$prog" ] ||
			fail "completions/$prog does not lead to a file"
	done
	cmp "$ROOT/completion/ptools.bash" "$SCRATCH/usr/share/bash-completion/completions/pcopy"
	run bash -c 'zcat "$1" | grep -c "^\.Sh EXIT STATUS"' _ "$SCRATCH/usr/share/man/man1/pverify.1.gz"
	assert_success
	assert_output 1
}

@test "package: each program from the package prints VERSION with --version" {
	need_package
	local prog
	for prog in pfind phash pverify pcopy; do
		prun "$SCRATCH/usr/bin/$prog" --version
		assert_success
		assert_output "$prog (ptools) $VERSION"
	done
}

@test "package: pfind DIR | phash | pverify from the package checks a tree" {
	need_package
	mkdir -p tree/sub
	echo one > tree/a
	echo two > tree/sub/b
	printf '' > tree/empty
	run bash -c 'PATH=$1/usr/bin; set -o pipefail; pfind tree -type f | phash | pverify -v' \
		_ "$SCRATCH"
	assert_success
	assert_line "OK	tree/a"
	assert_line "OK	tree/sub/b"
	assert_line "OK	tree/empty"
	run bash -c 'PATH=$1/usr/bin; pfind tree -type f | phash -a xxh128 > list; echo ONE > tree/a; pverify < list' \
		_ "$SCRATCH"
	assert_failure 1
	assert_line "FAILED	tree/a"
}

@test "package: the packaged completion offers the programs' options" {
	need_package
	# shellcheck disable=SC2016 # expanded by the inner bash
	run bash -c 'source "$1"
		COMP_WORDS=(pcopy --r); COMP_CWORD=1; _ptools_pcopy pcopy --r pcopy
		printf "%s\n" "${COMPREPLY[@]}"' _ "$SCRATCH/usr/share/bash-completion/completions/pcopy"
	assert_success
	assert_line --resume
	assert_line --rollback
}

@test "make check-version passes when VERSION and debian/changelog agree" {
	run make_clean check-version
	assert_success
	run sed -n '1s/^ptools (\([^)]*\)).*/\1/p' "$ROOT/debian/changelog"
	assert_output "$VERSION"
}

@test "make check-version fails with a hint when VERSION and debian/changelog disagree" {
	mkdir -p copy/debian
	cp "$ROOT/Makefile" copy/
	cp "$ROOT/debian/changelog" copy/debian/
	echo 9.9.9 > copy/VERSION
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C copy --no-print-directory check-version
	assert_failure 2
	assert_output --partial "VERSION says '9.9.9' but debian/changelog says '$VERSION'"
}
