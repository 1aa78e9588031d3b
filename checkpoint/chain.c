// SPDX-License-Identifier: MIT
/* The chain directory: listing, reading and writing checkpoints (chain.h). */
#include "checkpoint/chain.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_MAX_BYTES (1ull << 30)

/* A checkpoint's directory name: digits only (a temporary one starts
 * with a dot and is never listed). */
static bool is_checkpoint_name(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < CKPT_NAME_MAX && strspn(name, "0123456789") == n;
}

static int by_number(const void *a, const void *b)
{
	unsigned long long x = strtoull(a, NULL, 10), y = strtoull(b, NULL, 10);

	return x < y ? -1 : x > y;
}

int ckpt_chain_list(const char *dir, char (**names)[CKPT_NAME_MAX],
		    unsigned int *nr, char *err, size_t err_len)
{
	DIR *d = opendir(dir);
	char(*list)[CKPT_NAME_MAX] = NULL;
	unsigned int n = 0, cap = 0;
	struct dirent *e;

	*names = NULL;
	*nr = 0;
	if (!d) {
		snprintf(err, err_len, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d))) {
		if (!is_checkpoint_name(e->d_name))
			continue;
		if (n == cap) {
			void *grown = realloc(list, (cap = cap ? 2 * cap : 16) *
							sizeof(*list));

			if (!grown)
				break;
			list = grown;
		}
		snprintf(list[n++], CKPT_NAME_MAX, "%s", e->d_name);
	}
	closedir(d);
	qsort(list, n, sizeof(*list), by_number);
	*names = list;
	*nr = n;
	return 0;
}

int ckpt_chain_newest(const char *dir, char name[CKPT_NAME_MAX], char *err,
		      size_t err_len)
{
	char(*names)[CKPT_NAME_MAX];
	unsigned int nr;
	int ret = ckpt_chain_list(dir, &names, &nr, err, err_len);

	if (ret == -ENOENT || (!ret && !nr))
		ret = -ENOENT;
	else if (!ret)
		snprintf(name, CKPT_NAME_MAX, "%s", names[nr - 1]);
	free(names);
	return ret;
}

void ckpt_next_name(const char *newest, char name[CKPT_NAME_MAX])
{
	unsigned long long n =
	    newest && newest[0] ? strtoull(newest, NULL, 10) : 0;

	snprintf(name, CKPT_NAME_MAX, "%04llu", n + 1);
}

int ckpt_read_file(const char *layer_path, const char *file, uint64_t bytes,
		   uint8_t **data, char *err, size_t err_len)
{
	char path[4200];
	struct stat st;
	ssize_t got = 0;
	int fd, ret = 0;

	*data = NULL;
	snprintf(path, sizeof(path), "%s/%s", layer_path, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, err_len, "the %s file: %s", file,
			 strerror(errno));
	} else if ((uint64_t)st.st_size != bytes || bytes > READ_MAX_BYTES) {
		snprintf(err, err_len,
			 "the %s file is %llu bytes, the manifest says %llu "
			 "(truncated or replaced)",
			 file, (unsigned long long)st.st_size,
			 (unsigned long long)bytes);
		ret = -EBADMSG;
	} else if (!(*data = malloc(bytes ? bytes : 1))) {
		ret = -ENOMEM;
		snprintf(err, err_len, "the %s file: out of memory", file);
	} else if ((got = pread(fd, *data, bytes, 0)) != (ssize_t)bytes) {
		ret = got < 0 ? -errno : -EIO;
		snprintf(err, err_len, "reading the %s file: %s", file,
			 got < 0 ? strerror(errno) : "short read");
	}
	if (fd >= 0)
		close(fd);
	if (ret) {
		free(*data);
		*data = NULL;
	}
	return ret;
}

int ckpt_manifest_read(const char *layer_path, struct ckpt_manifest *m,
		       uint64_t *digest, char *err, size_t err_len)
{
	char mpath[4200];
	uint8_t *bytes = NULL;
	struct stat st;
	int ret;

	snprintf(mpath, sizeof(mpath), "%s/manifest", layer_path);
	if (stat(mpath, &st)) {
		ret = -errno;
		snprintf(err, err_len, "no manifest (%s)", strerror(errno));
		return ret;
	}
	ret = ckpt_read_file(layer_path, "manifest", (uint64_t)st.st_size,
			     &bytes, err, err_len);
	ret = ret
		  ?: ckpt_manifest_decode(bytes, (size_t)st.st_size, m, err,
					  err_len);
	if (!ret)
		*digest = m->merged_from
			      ?: ckpt_bytes_digest(bytes, (size_t)st.st_size);
	free(bytes);
	return ret;
}

int ckpt_layer_read(const char *dir, const char *name, struct ckpt_layer *l,
		    char *err, size_t err_len)
{
	char why[256] = "";
	struct stat st;
	int ret;

	snprintf(l->path, sizeof(l->path), "%s/%s", dir, name);
	if (stat(l->path, &st)) {
		ret = -errno;
		snprintf(err, err_len, "checkpoint %s is missing (%s: %s)",
			 name, l->path, strerror(errno));
		return ret;
	}
	ret = ckpt_manifest_read(l->path, &l->m, &l->digest, why, sizeof(why));
	if (ret == -ENOENT) {
		snprintf(err, err_len, "checkpoint %s: %s", name, why);
		return ret;
	}
	if (!ret && strcmp(l->m.name, name)) {
		snprintf(why, sizeof(why),
			 "its manifest names it %s (renamed or reordered)",
			 l->m.name);
		ret = -EINVAL;
	}
	if (ret)
		snprintf(err, err_len, "checkpoint %s: manifest: %s", name,
			 why);
	memcpy(l->link_tag,
	       l->m.merged_from ? l->m.auth.merged_from_tag : l->m.auth.tag,
	       CKPT_TAG_BYTES);
	l->key = NULL;
	return ret;
}

/*
 * With keys, every layer must be authenticated and its manifest pass its
 * tag; without, none may be: a layer that says it needs a key is not
 * trusted without one.
 */
static int check_auth(struct ckpt_layer *l, const struct ckpt_keys *keys,
		      char *err, size_t err_len)
{
	const struct ckpt_auth *a = &l->m.auth;
	uint8_t tag[CKPT_TAG_BYTES];

	if (a->kind == CKPT_AUTH_NONE && !keys)
		return 0;
	if (a->kind == CKPT_AUTH_NONE) {
		snprintf(err, err_len,
			 "checkpoint %s carries no MAC, but --mac-psk asks for "
			 "authenticated layers (taken without a key, or its "
			 "MACs stripped)",
			 l->m.name);
		return -EACCES;
	}
	if (!keys) {
		snprintf(err, err_len,
			 "checkpoint %s is authenticated (HMAC-SHA256, identity "
			 "'%s'): give its key with --mac-psk FILE",
			 l->m.name, a->identity);
		return -EACCES;
	}
	l->key = ckpt_keys_find(keys, a->identity);
	if (!l->key) {
		snprintf(err, err_len,
			 "checkpoint %s is authenticated with the key of "
			 "identity '%s', which --mac-psk does not hold",
			 l->m.name, a->identity);
		return -EACCES;
	}
	ckpt_mac_manifest(l->key, a->body_sha256, tag);
	if (!ckpt_mac_equal(tag, a->tag, CKPT_TAG_BYTES)) {
		snprintf(err, err_len,
			 "checkpoint %s: its manifest fails its MAC (altered, "
			 "or another key of identity '%s')",
			 l->m.name, a->identity);
		return -EBADMSG;
	}
	return 0;
}

/* Child's parent must be `parent`, unchanged since the child was taken. */
static int check_link(const struct ckpt_layer *child,
		      const struct ckpt_layer *parent, char *err,
		      size_t err_len)
{
	char why[256];

	if (child->key && !ckpt_mac_equal(parent->link_tag,
					  child->m.auth.parent_tag,
					  CKPT_TAG_BYTES)) {
		snprintf(err, err_len,
			 "checkpoint %s: its parent %s is not the one it was "
			 "taken after (another tag)",
			 child->m.name, parent->m.name);
		return -EINVAL;
	}
	if (parent->digest != child->m.parent_digest) {
		snprintf(err, err_len,
			 "checkpoint %s: its parent %s is not the one it was "
			 "taken after (digest %016llx, expected %016llx)",
			 child->m.name, parent->m.name,
			 (unsigned long long)parent->digest,
			 (unsigned long long)child->m.parent_digest);
		return -EINVAL;
	}
	if (!ckpt_machine_same(&parent->m.machine, &child->m.machine, why,
			       sizeof(why))) {
		snprintf(err, err_len, "checkpoint %s: %s than its parent %s",
			 child->m.name, why, parent->m.name);
		return -EINVAL;
	}
	return 0;
}

int ckpt_chain_resolve(const char *dir, const char *name,
		       const struct ckpt_keys *keys,
		       struct ckpt_layer **layers, unsigned int *nr, char *err,
		       size_t err_len)
{
	struct ckpt_layer *list = NULL;
	char next[CKPT_NAME_MAX];
	unsigned int n = 0;
	int ret = 0;

	*layers = NULL;
	*nr = 0;
	snprintf(next, sizeof(next), "%s", name);
	/* Newest first, then turned around. A copy of the next name: the
	 * list it comes from moves as it grows. */
	for (; !ret && next[0]; n++) {
		void *grown = n < CKPT_CHAIN_MAX
				  ? realloc(list, (n + 1) * sizeof(*list))
				  : NULL;

		if (!grown) {
			snprintf(err, err_len,
				 "checkpoint %s: the chain is too long", next);
			ret = -E2BIG;
			break;
		}
		list = grown;
		ret = ckpt_layer_read(dir, next, &list[n], err, err_len);
		ret = ret ?: check_auth(&list[n], keys, err, err_len);
		if (ret && n > 0 && ret == -ENOENT)
			snprintf(
			    err, err_len,
			    "checkpoint %s: its parent %s is missing (%s/%s)",
			    list[n - 1].m.name, next, dir, next);
		if (!ret && n > 0)
			ret = check_link(&list[n - 1], &list[n], err, err_len);
		snprintf(next, sizeof(next), "%s", ret ? "" : list[n].m.parent);
	}
	if (ret) {
		free(list);
		return ret;
	}
	for (unsigned int i = 0; i < n / 2; i++) {
		struct ckpt_layer t = list[i];

		list[i] = list[n - 1 - i];
		list[n - 1 - i] = t;
	}
	*layers = list;
	*nr = n;
	return 0;
}

void ckpt_dir_remove(const char *dir, const char *entry)
{
	char path[4200];

	for (unsigned int i = 0; i <= CKPT_NR_FILES; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", dir, entry,
			 i < CKPT_NR_FILES ? ckpt_file_names[i] : "manifest");
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, entry);
	rmdir(path);
}

/* Removes dir/.name.tmp and what a checkpoint puts in it. */
static void remove_tmp(const char *dir, const char *name)
{
	char entry[CKPT_NAME_MAX + 8];

	snprintf(entry, sizeof(entry), ".%s.tmp", name);
	ckpt_dir_remove(dir, entry);
}

int ckpt_sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0 || fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	return ret;
}

int ckpt_dir_begin(const char *dir, const char *name, int *tmp_fd, char *err,
		   size_t err_len)
{
	char path[4200];
	int ret = 0;

	if (mkdir(dir, 0755) && errno != EEXIST)
		ret = -errno;
	/* A crash left it: it never became a checkpoint. */
	remove_tmp(dir, name);
	snprintf(path, sizeof(path), "%s/.%s.tmp", dir, name);
	if (!ret && mkdir(path, 0755))
		ret = -errno;
	*tmp_fd = ret ? -1 : open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!ret && *tmp_fd < 0)
		ret = -errno;
	if (ret)
		snprintf(err, err_len, "cannot create %s: %s", path,
			 strerror(-ret));
	return ret;
}

int ckpt_write_file(int dir_fd, const char *file, const void *data, size_t len)
{
	int fd = openat(dir_fd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			0644);
	const uint8_t *p = data;
	int ret = fd < 0 ? -errno : 0;

	while (!ret && len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno != EINTR)
			ret = -errno;
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
	}
	if (!ret && fsync(fd))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	return ret;
}

int ckpt_dir_commit(const char *dir, const char *name, int tmp_fd, char *err,
		    size_t err_len)
{
	char from[4200], to[4200];
	int ret = fsync(tmp_fd) ? -errno : 0;

	snprintf(from, sizeof(from), "%s/.%s.tmp", dir, name);
	snprintf(to, sizeof(to), "%s/%s", dir, name);
	/* The rename is the commit: before it the chain is as it was. */
	if (!ret && rename(from, to))
		ret = -errno;
	ret = ret ?: ckpt_sync_dir(dir);
	close(tmp_fd);
	if (ret)
		snprintf(err, err_len, "cannot commit %s: %s", to,
			 strerror(-ret));
	return ret;
}

void ckpt_dir_abort(const char *dir, const char *name, int tmp_fd)
{
	if (tmp_fd >= 0)
		close(tmp_fd);
	remove_tmp(dir, name);
}

int ckpt_chain_lock(const char *dir, int *fd, char *err, size_t err_len)
{
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, err_len, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	while (flock(*fd, LOCK_EX)) {
		if (errno == EINTR)
			continue;
		snprintf(err, err_len, "locking %s: %s", dir, strerror(errno));
		close(*fd);
		*fd = -1;
		return -errno;
	}
	return 0;
}

void ckpt_chain_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

int ckpt_file_io(int fd, void *buf, uint64_t len, uint64_t off, bool write_it)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = write_it ? pwrite(fd, p, len, (off_t)off)
				     : pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}
