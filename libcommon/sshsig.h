/* SPDX-License-Identifier: 0BSD */
/**
 * SSH signatures over seals (FORMAT.md, "Signed seals"): OpenSSH's SSHSIG
 * format, as `ssh-keygen -Y sign` writes and `ssh-keygen -Y verify` reads it
 * (openssh-portable's PROTOCOL.sshsig), for Ed25519 keys only, with SHA-512.
 *
 * The module reads and writes everything the signature needs: the SSH wire
 * encoding (uint32, length-prefixed strings, each length checked against a
 * stated maximum before use), OpenSSH key files (an unencrypted
 * openssh-key-v1 private key, or a one-line public key), the armored
 * signature, ssh-agent's protocol (sign with a key the agent holds), and
 * ssh-keygen's allowed_signers lines. Signing and verifying are OpenSSL's
 * Ed25519.
 *
 * Nothing here prints or exits: a failure returns -1 with errno and, where
 * one is asked for, *why (a static English phrase for the caller's message).
 * Memory is bounded whatever the input: every input is capped in size.
 */
#ifndef PTOOLS_SSHSIG_H
#define PTOOLS_SSHSIG_H

#include "prelude.h"
#include "dbuf.h"

/** The namespace pcopy signs seals in (ssh-keygen -Y's -n). */
#define SSHSIG_NAMESPACE "ptools-seal"

/** The suffix of the signature file beside a seal: `.ptools-seal.sig`. */
#define SSHSIG_SUFFIX ".sig"

/** The hash signed over the message (SHA-512, ssh-keygen's default). */
#define SSHSIG_DIGEST_LEN 64

/** Ed25519 sizes: public key, seed (the private half), signature. */
#define SSHSIG_PUB_LEN 32
#define SSHSIG_SEED_LEN 32
#define SSHSIG_SIG_LEN 64

/** The largest key file, signature file or agent reply read, in bytes. */
#define SSHSIG_FILE_MAX (64 * 1024)

/** The longest key comment kept (longer ones are cut). */
#define SSHSIG_COMMENT_MAX 255

/** The longest allowed_signers line judged; a longer one is malformed. */
#define SSHSIG_SIGNERS_LINE_MAX 16384

/*
 * The SSH wire encoding (RFC 4251 section 5).
 */

/** A cursor over bytes read from outside. */
struct sshsig_wire {
	const unsigned char *data;
	size_t len;               /* bytes left from data */
};

/** Read a big-endian uint32. 0, or -1 (EINVAL) when fewer than 4 bytes are left. */
int sshsig_get_u32(struct sshsig_wire *w, uint32_t *value);

/**
 * Read a length-prefixed string of at most max bytes: *data points into the
 * cursor's bytes (not copied, not NUL-terminated). 0, or -1 (EINVAL) when
 * the length passes max or the bytes left.
 */
int sshsig_get_string(struct sshsig_wire *w, const unsigned char **data, size_t *len,
		      size_t max);

/* Writing it is frame.h's frame_put_u32 and frame_put_bytes: the same encoding. */

/**
 * Decode base64 (RFC 4648, padding required, whitespace and line breaks
 * skipped) into out, at most cap bytes. Returns the length, or -1 (EINVAL:
 * not base64, or longer than cap).
 */
long sshsig_base64_decode(const char *text, size_t len, unsigned char *out, size_t cap);

/** Append base64 of data, with an LF every wrap characters (0: none). 0 or -1 (ENOMEM). */
int sshsig_base64_encode(struct dbuf *buf, const void *data, size_t len, size_t wrap);

/*
 * Keys.
 */

/** An Ed25519 key as read from a file: always its public half, maybe its private one. */
struct sshsig_key {
	unsigned char pub[SSHSIG_PUB_LEN];
	unsigned char seed[SSHSIG_SEED_LEN];  /* valid when has_private */
	bool has_private;
	bool encrypted;                       /* a private key file under a passphrase */
	char comment[SSHSIG_COMMENT_MAX + 1]; /* "" when the file has none */
};

/**
 * Parse a key file's text (len bytes, at most SSHSIG_FILE_MAX): an OpenSSH
 * private key (`-----BEGIN OPENSSH PRIVATE KEY-----`, openssh-key-v1) or a
 * public key line (`ssh-ed25519 BASE64 [comment]`, a .pub file). An
 * encrypted private key still yields its public half (key->encrypted set,
 * has_private false): it can sign only through ssh-agent. Returns 0, or -1
 * with errno EINVAL (malformed) or ENOTSUP (not Ed25519, several keys) and
 * *why set.
 */
int sshsig_key_parse(const char *text, size_t len, struct sshsig_key *key, const char **why);

/** Read and parse the key file at path (sshsig_key_parse); errno from open/read too. */
int sshsig_key_load(const char *path, struct sshsig_key *key, const char **why);

/** Forget the private half (overwritten). NULL-safe. */
void sshsig_key_wipe(struct sshsig_key *key);

/** Append the key's public blob (string "ssh-ed25519", string pub). 0 or -1 (ENOMEM). */
int sshsig_pubkey_blob(struct dbuf *buf, const unsigned char pub[SSHSIG_PUB_LEN]);

/** Room for a fingerprint: "SHA256:" and 43 base64 digits, NUL. */
#define SSHSIG_FINGERPRINT_MAX 64

/** The key's fingerprint as ssh-keygen -l shows it ("SHA256:..."), into out. */
void sshsig_fingerprint(const unsigned char pub[SSHSIG_PUB_LEN],
			char out[SSHSIG_FINGERPRINT_MAX]);

/*
 * Signing.
 */

/**
 * Sign the SHA-512 digest of a message in namespace: the armored signature
 * (`-----BEGIN SSH SIGNATURE-----`, base64 at 70 columns, the END line, an
 * LF) is appended to out. With key->has_private, OpenSSL signs; otherwise
 * the ssh-agent listening on agent_socket (SSH_AUTH_SOCK's value; NULL: no
 * agent) signs with the identity whose public key is key->pub. Returns 0, or
 * -1 with errno and *why.
 */
int sshsig_sign(const struct sshsig_key *key, const char *agent_socket, const char *namespace,
		const unsigned char digest[SSHSIG_DIGEST_LEN], struct dbuf *out, const char **why);

/**
 * Whether the ssh-agent on agent_socket holds the Ed25519 identity pub: 1
 * yes, 0 no, -1 with errno and *why (cannot connect, a malformed reply).
 */
int sshsig_agent_has(const char *agent_socket, const unsigned char pub[SSHSIG_PUB_LEN],
		     const char **why);

/*
 * Verifying.
 */

/** A parsed signature: what it says, not yet whether it is right. */
struct sshsig_signature {
	unsigned char pub[SSHSIG_PUB_LEN];  /* the signer's key */
	unsigned char sig[SSHSIG_SIG_LEN];  /* the Ed25519 signature */
	char namespace[64];                 /* NUL-terminated */
	char hash[16];                      /* "sha512" (or "sha256", not accepted) */
};

/**
 * Parse an armored signature (text, len bytes): the armor, version 1, an
 * Ed25519 public key and signature. Returns 0, or -1 with errno EINVAL
 * (malformed) or ENOTSUP (another key type or version) and *why.
 */
int sshsig_parse(const char *text, size_t len, struct sshsig_signature *sig, const char **why);

/**
 * Whether sig is a good signature by its own key over the message whose
 * SHA-512 is digest, in namespace: 0 yes; -1 with errno EBADMSG (a wrong
 * signature, another namespace, or a hash other than sha512) and *why.
 */
int sshsig_check(const struct sshsig_signature *sig, const char *namespace,
		 const unsigned char digest[SSHSIG_DIGEST_LEN], const char **why);

/*
 * allowed_signers (ssh-keygen(1), ALLOWED SIGNERS): one line at a time, so
 * that a file of any size is judged in bounded memory.
 */

/** What one allowed_signers line says about a key. */
enum sshsig_signers_line {
	SSHSIG_SIGNERS_SKIP,      /* blank, a comment, or another key */
	SSHSIG_SIGNERS_MATCH,     /* this key, allowed in the namespace: principal set */
	SSHSIG_SIGNERS_NAMESPACE, /* this key, but namespaces= leaves the namespace out */
	SSHSIG_SIGNERS_UNSUPPORTED, /* this key, but cert-authority or valid-after/-before:
				       not evaluated, so not trusted */
	SSHSIG_SIGNERS_MALFORMED, /* *why says what is wrong */
};

/**
 * Judge one allowed_signers line (without its LF; at most
 * SSHSIG_SIGNERS_LINE_MAX bytes) for key pub and namespace. On a match the
 * principals field (unquoted, truncated to cap - 1 bytes) goes into
 * principal.
 */
enum sshsig_signers_line sshsig_signers_line(const char *line, size_t len,
					     const unsigned char pub[SSHSIG_PUB_LEN],
					     const char *namespace, char *principal, size_t cap,
					     const char **why);

/**
 * Whether name matches the comma-separated pattern list (`*` and `?`
 * wildcards; a `!` pattern that matches excludes), as OpenSSH matches
 * principals and namespaces. Linear in the pattern times the name.
 */
bool sshsig_match_list(const char *name, const char *list, size_t list_len);

#endif
