// SPDX-License-Identifier: GPL-2.0-only
/*
 * Generic C glue for device-mapper targets written in Rust.
 *
 * This file holds no policy and names no target: the same file serves
 * every target.  dm_glue_register() takes the target's name, version and
 * callbacks (struct dm_glue_ops, built by dm.rs) and registers a struct
 * target_type whose callbacks call through them.  The rest gives Rust one
 * small function per field, macro or inline helper that Rust cannot reach:
 * ti->begin, ti->error, dm_get_device(), bio_op(), bio_set_dev(), DMEMIT()
 * and so on.  See dm_glue.h.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/build_bug.h>
#include <linux/device-mapper.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>

#include "dm_glue.h"

#define DM_MSG_PREFIX KBUILD_MODNAME

static_assert(DM_GLUE_MAPIO_SUBMITTED == DM_MAPIO_SUBMITTED);
static_assert(DM_GLUE_MAPIO_REMAPPED == DM_MAPIO_REMAPPED);
static_assert(DM_GLUE_MAPIO_KILL == DM_MAPIO_KILL);
static_assert(DM_GLUE_ENDIO_DONE == DM_ENDIO_DONE);
static_assert(DM_GLUE_ENDIO_REQUEUE == DM_ENDIO_REQUEUE);
static_assert(DM_GLUE_STATUS_INFO == STATUSTYPE_INFO);
static_assert(DM_GLUE_STATUS_TABLE == STATUSTYPE_TABLE);
static_assert(DM_GLUE_STATUS_IMA == STATUSTYPE_IMA);
static_assert(sizeof(sector_t) == sizeof(u64));
/* dm.rs mirrors struct dm_glue_ops as seven function pointers. */
static_assert(sizeof(struct dm_glue_ops) == 7 * sizeof(void *));

/* One registered target type and the Rust callbacks behind it. */
struct dm_glue_type {
	struct target_type tt;
	const struct dm_glue_ops *ops;
};

static const struct dm_glue_ops *dm_glue_ops_of(struct dm_target *ti)
{
	return container_of(ti->type, struct dm_glue_type, tt)->ops;
}

/* target_type callbacks: straight into Rust. */

static int dm_glue_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	return dm_glue_ops_of(ti)->ctr(ti, argc, argv);
}

static void dm_glue_dtr(struct dm_target *ti)
{
	dm_glue_ops_of(ti)->dtr(ti);
}

static int dm_glue_map(struct dm_target *ti, struct bio *bio)
{
	return dm_glue_ops_of(ti)->map(ti, bio);
}

static int dm_glue_end_io(struct dm_target *ti, struct bio *bio,
			  blk_status_t *error)
{
	int before = blk_status_to_errno(*error);
	int after = before;
	int r = dm_glue_ops_of(ti)->end_io(ti, bio, &after);

	/* Only a status the target changed is converted back. */
	if (after != before)
		*error = errno_to_blk_status(after);
	return r;
}

static void dm_glue_status(struct dm_target *ti, status_type_t type,
			   unsigned int status_flags, char *result,
			   unsigned int maxlen)
{
	/* Rust may emit nothing: make sure the buffer holds a string. */
	if (maxlen)
		result[0] = '\0';
	dm_glue_ops_of(ti)->status(ti, type, result, maxlen);
}

static int dm_glue_message(struct dm_target *ti, unsigned int argc,
			   char **argv, char *result, unsigned int maxlen)
{
	if (maxlen)
		result[0] = '\0';
	return dm_glue_ops_of(ti)->message(ti, argc, argv, result, maxlen);
}

static int dm_glue_iterate_devices(struct dm_target *ti,
				   iterate_devices_callout_fn fn, void *data)
{
	return dm_glue_ops_of(ti)->iterate_devices(ti, fn, data);
}

int dm_glue_register(const char *name, const unsigned int *version,
		     const struct dm_glue_ops *ops,
		     struct dm_glue_type **result)
{
	struct dm_glue_type *type;
	int r;

	type = kzalloc_obj(*type);
	if (!type)
		return -ENOMEM;
	type->ops = ops;
	type->tt.name = name;
	type->tt.version[0] = version[0];
	type->tt.version[1] = version[1];
	type->tt.version[2] = version[2];
	type->tt.module = THIS_MODULE;
	type->tt.ctr = dm_glue_ctr;
	type->tt.dtr = dm_glue_dtr;
	type->tt.map = dm_glue_map;
	if (ops->end_io)
		type->tt.end_io = dm_glue_end_io;
	if (ops->status)
		type->tt.status = dm_glue_status;
	if (ops->message)
		type->tt.message = dm_glue_message;
	if (ops->iterate_devices)
		type->tt.iterate_devices = dm_glue_iterate_devices;

	r = dm_register_target(&type->tt);
	if (r < 0) {
		DMERR("register failed %d", r);
		kfree(type);
		return r;
	}
	*result = type;
	return 0;
}

void dm_glue_unregister(struct dm_glue_type *type)
{
	dm_unregister_target(&type->tt);
	kfree(type);
}

/* struct dm_target */

sector_t dm_glue_ti_begin(struct dm_target *ti)
{
	return ti->begin;
}

sector_t dm_glue_ti_len(struct dm_target *ti)
{
	return ti->len;
}

void *dm_glue_ti_private(struct dm_target *ti)
{
	return ti->private;
}

void dm_glue_ti_set_private(struct dm_target *ti, void *private)
{
	ti->private = private;
}

void dm_glue_ti_set_error(struct dm_target *ti, const char *error)
{
	/* DM core only reads it; Rust passes a string with static lifetime. */
	ti->error = (char *)error;
}

void dm_glue_ti_set_num_bios(struct dm_target *ti, unsigned int flush,
			     unsigned int discard, unsigned int secure_erase,
			     unsigned int write_zeroes)
{
	ti->num_flush_bios = flush;
	ti->num_discard_bios = discard;
	ti->num_secure_erase_bios = secure_erase;
	ti->num_write_zeroes_bios = write_zeroes;
}

int dm_glue_ti_set_max_io_len(struct dm_target *ti, sector_t len)
{
	return dm_set_target_max_io_len(ti, len);
}

/* struct dm_dev */

int dm_glue_get_device(struct dm_target *ti, const char *path,
		       struct dm_dev **result)
{
	return dm_get_device(ti, path, dm_table_get_mode(ti->table), result);
}

void dm_glue_put_device(struct dm_target *ti, struct dm_dev *dev)
{
	dm_put_device(ti, dev);
}

const char *dm_glue_dev_name(struct dm_dev *dev)
{
	return dev->name;
}

/* struct bio: what it asks for */

unsigned int dm_glue_bio_op(struct bio *bio)
{
	return bio_op(bio);
}

bool dm_glue_bio_is_write(struct bio *bio)
{
	return op_is_write(bio_op(bio));
}

bool dm_glue_bio_is_preflush(struct bio *bio)
{
	return bio->bi_opf & REQ_PREFLUSH;
}

bool dm_glue_bio_is_fua(struct bio *bio)
{
	return bio->bi_opf & REQ_FUA;
}

sector_t dm_glue_bio_sector(struct bio *bio)
{
	return bio->bi_iter.bi_sector;
}

unsigned int dm_glue_bio_size(struct bio *bio)
{
	return bio->bi_iter.bi_size;
}

unsigned int dm_glue_bio_target_bio_nr(struct bio *bio)
{
	return dm_bio_get_target_bio_nr(bio);
}

/* struct bio: what the target does with it */

void dm_glue_bio_set_dev(struct bio *bio, struct dm_dev *dev)
{
	bio_set_dev(bio, dev->bdev);
}

void dm_glue_bio_set_sector(struct bio *bio, sector_t sector)
{
	bio->bi_iter.bi_sector = sector;
}

void dm_glue_bio_accept_partial(struct bio *bio, unsigned int sectors)
{
	dm_accept_partial_bio(bio, sectors);
}

void dm_glue_bio_zero_fill(struct bio *bio)
{
	zero_fill_bio(bio);
}

/* Ends @bio now with @error (0 or -errno); map then returns SUBMITTED. */
void dm_glue_bio_complete(struct bio *bio, int error)
{
	bio->bi_status = errno_to_blk_status(error);
	bio_endio(bio);
}

/*
 * Sends a copy of @bio to @sector of @dev.  The copy shares @bio's pages
 * and is chained to it: @bio completes only when the copy has too, and
 * fails if the copy failed.  So @bio must still be submitted (or
 * completed) afterwards, never killed.
 */
int dm_glue_bio_clone_to(struct bio *bio, struct bio_set *bs,
			 struct dm_dev *dev, sector_t sector)
{
	struct bio *clone = bio_alloc_clone(dev->bdev, bio, GFP_NOIO, bs);

	if (!clone)
		return -ENOMEM;
	clone->bi_iter.bi_sector = sector;
	bio_chain(clone, bio);
	submit_bio_noacct(clone);
	return 0;
}

struct bio_set *dm_glue_bioset_create(unsigned int pool_size)
{
	struct bio_set *bs = kzalloc_obj(*bs);

	if (!bs)
		return NULL;
	/*
	 * Clones are allocated in map, under the submitting task's bio list:
	 * the rescuer keeps a full pool from deadlocking on bios queued there.
	 */
	if (bioset_init(bs, pool_size, 0, BIOSET_NEED_RESCUER)) {
		kfree(bs);
		return NULL;
	}
	return bs;
}

void dm_glue_bioset_destroy(struct bio_set *bs)
{
	bioset_exit(bs);
	kfree(bs);
}

/* Output */

/*
 * Appends @len bytes of @text to a status or message buffer at @offset,
 * exactly as DMEMIT() does, and returns the new offset.
 */
unsigned int dm_glue_emit(char *result, unsigned int maxlen,
			  unsigned int offset, const char *text,
			  unsigned int len)
{
	unsigned int sz = offset;	/* the name DMEMIT() works on */

	DMEMIT("%.*s", (int)len, text);
	return sz;
}

/* One printk rate limit for the module's per-bio lines, as printk_ratelimited. */
bool dm_glue_ratelimit(void)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL,
				      DEFAULT_RATELIMIT_BURST);

	return __ratelimit(&rs);
}

/*
 * Warns "<prefix><args joined by spaces>", the joined text cut at 127
 * bytes so that a long message cannot flood the log; the bytes are
 * printed as they are, as a C target's "%s" would.
 */
void dm_glue_warn_args(const char *prefix, unsigned int argc, char **argv)
{
	char text[128];
	size_t len = 0;
	unsigned int i;

	text[0] = '\0';
	for (i = 0; i < argc; i++)
		len += scnprintf(text + len, sizeof(text) - len, "%s%s",
				 i ? " " : "", argv[i]);
	pr_warn("%s%s\n", prefix, text);
}

int dm_glue_call_callout(dm_glue_callout_fn fn, struct dm_target *ti,
			 struct dm_dev *dev, sector_t start, sector_t len,
			 void *data)
{
	return fn(ti, dev, start, len, data);
}
