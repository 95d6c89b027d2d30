# SPDX-License-Identifier: 0BSD
# bash completion for ptools: pfind, phash, pverify and pcopy.
#
# One file for the four programs; make install puts it in the bash-completion
# directory under each program's name (bash-completion loads a command's
# completion from the file of that name), or source it from ~/.bashrc.
# It needs only bash itself, not the bash-completion package's helpers.
#
# The option lists are copied from each program's --help and the algorithm
# names from phash --help; tests/completion.bats fails when they drift apart.

# phash --help's algorithm list, in its order (libcommon/hashreg.c's table).
_ptools_algorithms='md5 sha1 sha224 sha256 sha384 sha512 sha512-256 sha3-256
sha3-512 blake2b blake2s xxh32 xxh64 xxh3 xxh128 crc32'

# _ptools_init: set cur (the word being completed), prev (the word before it,
# or the option of an --option=value) and eqprefix (what must stay in front
# of each reply: "--option=" when '=' is not in COMP_WORDBREAKS and so the
# option and its value arrive as one word).
_ptools_init() {
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	eqprefix=
	if [ "$COMP_CWORD" -gt 0 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi
	if [ "$cur" = = ]; then
		# "--opt=" with '=' a word break: words ... --opt =
		cur=
	elif [ "$prev" = = ] && [ "$COMP_CWORD" -gt 1 ]; then
		# "--opt=val": words ... --opt = val
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		eqprefix=$prev=
		cur=${cur#*=}
	fi
}

# _ptools_reply WORDS...: COMPREPLY gets each WORD that starts with $cur,
# with $eqprefix in front.
_ptools_reply() {
	local word
	COMPREPLY=()
	for word in "$@"; do
		if [[ $word == "$cur"* ]]; then
			COMPREPLY+=("$eqprefix$word")
		fi
	done
}

# _ptools_reply_list WORDS...: complete the last item of a comma-separated
# list (sha256,xx -> sha256,xxh32 sha256,xxh64 ...).
_ptools_reply_list() {
	local head='' word
	if [[ $cur == *,* ]]; then
		head=${cur%,*},
	fi
	local last=${cur##*,}
	COMPREPLY=()
	for word in "$@"; do
		if [[ $word == "$last"* ]]; then
			COMPREPLY+=("$eqprefix$head$word")
		fi
	done
	# Let the user go on with another comma.
	compopt -o nospace 2>/dev/null
}

# _ptools_files [-d]: file names (directories only with -d) starting with $cur.
_ptools_files() {
	local kind=-f
	[ "${1:-}" = -d ] && kind=-d
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen "$kind" -- "$cur")
	if [ -n "$eqprefix" ]; then
		COMPREPLY=("${COMPREPLY[@]/#/$eqprefix}")
	fi
}

_ptools_pfind() {
	local cur prev eqprefix
	_ptools_init
	case $prev in
	-j | --jobs | -mindepth | -maxdepth | -size | -mtime | -mmin | \
		--exclude | -name | -iname | -path | -wholename | -ipath | \
		-perm | -links | -inum | -regex | -iregex | -newer[acm]t)
		COMPREPLY=()
		return
		;;
	-user)
		COMPREPLY=($(compgen -u -- "$cur"))
		return
		;;
	-group)
		COMPREPLY=($(compgen -g -- "$cur"))
		return
		;;
	-regextype)
		_ptools_reply posix-extended
		return
		;;
	--fields)
		_ptools_reply_list type mtime mode nlink uid gid dev link depth
		return
		;;
	-type)
		_ptools_reply_list f d l p s b c
		return
		;;
	-newer | -anewer | -cnewer | -samefile | -newer[acm][acm])
		_ptools_files
		return
		;;
	esac
	case $cur in
	--*)
		_ptools_reply --jobs --print0 --fields --sort --follow --xdev \
			--exclude --no-hidden --help --version
		;;
	-*)
		# Options, then the expression's primaries and operators (find's).
		_ptools_reply -j -0 -L --jobs --print0 --fields --sort --follow \
			--xdev --exclude --no-hidden --help --version \
			-name -iname -path -wholename -ipath -type -size -mtime -mmin \
			-newer -anewer -cnewer -neweraa -newerac -neweram -newerat \
			-newerca -newercc -newercm -newerct -newerma -newermc -newermm \
			-newermt -empty -true -false -print -print0 -prune -quit \
			-perm -user -group -nouser -nogroup -samefile -links -inum \
			-regex -iregex -regextype -mindepth -maxdepth -xdev \
			-mount -follow -ignore_readdir_race -noignore_readdir_race \
			-not -a -and -o -or
		;;
	*)
		_ptools_files -d
		;;
	esac
}

_ptools_phash() {
	local cur prev eqprefix
	_ptools_init
	case $prev in
	-a | --algorithm)
		# shellcheck disable=SC2086 # the list is split on purpose
		_ptools_reply_list $_ptools_algorithms
		return
		;;
	-f | --format)
		_ptools_reply records gnu bsd
		return
		;;
	--reuse | --sign)
		# --sign: a key file (private, or .pub with ssh-agent)
		_ptools_files
		return
		;;
	-j | --jobs | --exclude)
		# --exclude: a glob, the user's to write
		COMPREPLY=()
		return
		;;
	esac
	case $cur in
	--*)
		_ptools_reply --algorithm= --jobs= --null --recursive --format= --tag \
			--reuse= --exclude= --no-default-excludes --unordered --nocache \
			--progress --no-progress --seal --mhl --sign= --check --help --version
		if [ "${#COMPREPLY[@]}" -eq 1 ] && [[ ${COMPREPLY[0]} == *= ]]; then
			compopt -o nospace 2>/dev/null
		fi
		;;
	-*)
		_ptools_reply -a -j -0 -r -f -c -h -V
		;;
	*)
		_ptools_files
		;;
	esac
}

_ptools_pverify() {
	local cur prev eqprefix
	_ptools_init
	case $prev in
	-f | --file)
		_ptools_files
		return
		;;
	-C | --root | --audit | --bag | --mhl)
		_ptools_files -d
		return
		;;
	--signers)
		# an allowed_signers file
		_ptools_files
		return
		;;
	-a | --algorithm)
		# shellcheck disable=SC2086
		_ptools_reply $_ptools_algorithms
		return
		;;
	-j | --jobs | --exclude)
		# --exclude: a glob, the user's to write
		COMPREPLY=()
		return
		;;
	esac
	case $cur in
	--*)
		_ptools_reply --file= --root= --algorithm= --audit= --mhl= --exclude= \
			--no-default-excludes --sealed --signers= --bag --quick \
			--ignore-missing --sizes-only --quiet --status --warn --strict \
			--zero --verbose --jobs= --progress --no-progress --help --version
		if [ "${#COMPREPLY[@]}" -eq 1 ] && [[ ${COMPREPLY[0]} == *= ]]; then
			compopt -o nospace 2>/dev/null
		fi
		;;
	-*)
		_ptools_reply -f -C -a -q -w -z -v -j -h -V
		;;
	*)
		# operands are manifests
		_ptools_files
		;;
	esac
}

_ptools_pcopy() {
	local cur prev eqprefix
	_ptools_init
	case $prev in
	-a | --algo)
		# shellcheck disable=SC2086
		_ptools_reply_list $_ptools_algorithms
		return
		;;
	-t | --to | --from)
		_ptools_files -d
		return
		;;
	-e | --rsh)
		# A command: the programs on PATH.
		mapfile -t COMPREPLY < <(compgen -c -- "$cur")
		if [ -n "$eqprefix" ]; then
			COMPREPLY=("${COMPREPLY[@]/#/$eqprefix}")
		fi
		return
		;;
	--remote-pcopy | --sign)
		# --sign: a key file (private, or .pub with ssh-agent)
		_ptools_files
		return
		;;
	--seal)
		# The default name, and the seals already in the current directory.
		local seals
		mapfile -t seals < <(compgen -f -X '!*seal*' -- "$cur")
		_ptools_reply .ptools-seal "${seals[@]}"
		return
		;;
	-j | --readers | -w | --writers | --exclude)
		COMPREPLY=()
		return
		;;
	--block-size)
		_ptools_reply 4K 16K 64K 256K 1M
		return
		;;
	esac
	case $cur in
	--*)
		_ptools_reply --algo= --to= --from= --null --force --update \
			--delta --inplace --whole-file --block-size= \
			--preserve --hard-links --dry-run --delete --allow-empty-source --exclude= \
			--no-default-excludes --keep-going \
			--fsync --verify --mhl --seal= --sign= --bag --readers= --writers= --progress \
			--no-progress --resume --rollback --rsh= --remote-pcopy= --compress \
			--help --version
		if [ "${#COMPREPLY[@]}" -eq 1 ] && [[ ${COMPREPLY[0]} == *= ]]; then
			compopt -o nospace 2>/dev/null
		fi
		;;
	-*)
		_ptools_reply -a -t -0 -f -u -W -p -H -n -k -j -w -e -z -h -V
		;;
	*)
		# SRC and DEST are directories.
		_ptools_files -d
		;;
	esac
}

complete -F _ptools_pfind pfind
complete -F _ptools_phash phash
complete -F _ptools_pverify pverify
complete -F _ptools_pcopy pcopy
