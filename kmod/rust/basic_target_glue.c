// SPDX-License-Identifier: GPL-2.0-only
/*
 * C glue for the Rust basic_target device-mapper target.
 *
 * This file holds no policy.  It owns the struct target_type that DM core
 * needs, forwards each callback to Rust, and gives Rust one small function
 * per field, macro or inline helper that Rust cannot reach: ti->begin,
 * ti->error, dm_get_device(), bio_op(), bio_set_dev(), DMEMIT() and so on.
 * Argument parsing, sector arithmetic, counters, messages and the decision
 * to log all live in basic_target_main.rs.  See basic_target_glue.h.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/build_bug.h>
#include <linux/device-mapper.h>
#include <linux/kernel.h>
#include <linux/printk.h>

#include "basic_target_glue.h"

#define DM_MSG_PREFIX "basic_target"

static_assert(BASIC_TARGET_MAPIO_SUBMITTED == DM_MAPIO_SUBMITTED);
static_assert(BASIC_TARGET_MAPIO_REMAPPED == DM_MAPIO_REMAPPED);
static_assert(BASIC_TARGET_MAPIO_KILL == DM_MAPIO_KILL);
static_assert(BASIC_TARGET_STATUS_INFO == STATUSTYPE_INFO);
static_assert(BASIC_TARGET_STATUS_TABLE == STATUSTYPE_TABLE);
static_assert(BASIC_TARGET_STATUS_IMA == STATUSTYPE_IMA);
static_assert(sizeof(sector_t) == sizeof(u64));

/* target_type callbacks: straight into Rust. */

static int basic_target_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	return basic_target_rs_ctr(ti, argc, argv);
}

static void basic_target_dtr(struct dm_target *ti)
{
	basic_target_rs_dtr(ti);
}

static int basic_target_map(struct dm_target *ti, struct bio *bio)
{
	return basic_target_rs_map(ti, bio);
}

static void basic_target_status(struct dm_target *ti, status_type_t type,
				unsigned int status_flags, char *result,
				unsigned int maxlen)
{
	/* Rust may emit nothing: make sure the buffer holds a string. */
	if (maxlen)
		result[0] = '\0';
	basic_target_rs_status(ti, type, result, maxlen);
}

static int basic_target_message(struct dm_target *ti, unsigned int argc,
				char **argv, char *result, unsigned int maxlen)
{
	return basic_target_rs_message(ti, argc, argv);
}

static int basic_target_iterate_devices(struct dm_target *ti,
					iterate_devices_callout_fn fn, void *data)
{
	return basic_target_rs_iterate_devices(ti, fn, data);
}

static struct target_type basic_target_target = {
	.name = "basic_target",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = basic_target_ctr,
	.dtr = basic_target_dtr,
	.map = basic_target_map,
	.status = basic_target_status,
	.message = basic_target_message,
	.iterate_devices = basic_target_iterate_devices,
};

int basic_target_glue_register(void)
{
	int r = dm_register_target(&basic_target_target);

	if (r < 0)
		DMERR("register failed %d", r);
	return r;
}

void basic_target_glue_unregister(void)
{
	dm_unregister_target(&basic_target_target);
}

/* struct dm_target */

sector_t basic_target_glue_ti_begin(struct dm_target *ti)
{
	return ti->begin;
}

sector_t basic_target_glue_ti_len(struct dm_target *ti)
{
	return ti->len;
}

void *basic_target_glue_ti_private(struct dm_target *ti)
{
	return ti->private;
}

void basic_target_glue_ti_set_private(struct dm_target *ti, void *private)
{
	ti->private = private;
}

void basic_target_glue_ti_set_error(struct dm_target *ti, const char *error)
{
	/* DM core only reads it; Rust passes a string with static lifetime. */
	ti->error = (char *)error;
}

void basic_target_glue_ti_set_num_bios(struct dm_target *ti,
				       unsigned int flush,
				       unsigned int discard,
				       unsigned int secure_erase,
				       unsigned int write_zeroes)
{
	ti->num_flush_bios = flush;
	ti->num_discard_bios = discard;
	ti->num_secure_erase_bios = secure_erase;
	ti->num_write_zeroes_bios = write_zeroes;
}

/* struct dm_dev */

int basic_target_glue_get_device(struct dm_target *ti, const char *path,
				 struct dm_dev **result)
{
	return dm_get_device(ti, path, dm_table_get_mode(ti->table), result);
}

void basic_target_glue_put_device(struct dm_target *ti, struct dm_dev *dev)
{
	dm_put_device(ti, dev);
}

const char *basic_target_glue_dev_name(struct dm_dev *dev)
{
	return dev->name;
}

/* struct bio */

unsigned int basic_target_glue_bio_op(struct bio *bio)
{
	return bio_op(bio);
}

bool basic_target_glue_bio_is_preflush(struct bio *bio)
{
	return bio->bi_opf & REQ_PREFLUSH;
}

sector_t basic_target_glue_bio_sector(struct bio *bio)
{
	return bio->bi_iter.bi_sector;
}

unsigned int basic_target_glue_bio_size(struct bio *bio)
{
	return bio->bi_iter.bi_size;
}

void basic_target_glue_bio_set_dev(struct bio *bio, struct dm_dev *dev)
{
	bio_set_dev(bio, dev->bdev);
}

void basic_target_glue_bio_set_sector(struct bio *bio, sector_t sector)
{
	bio->bi_iter.bi_sector = sector;
}

/* Output */

/* Append @len bytes of @text to a status buffer, exactly as DMEMIT() does. */
void basic_target_glue_emit(char *result, unsigned int maxlen,
			    unsigned int *offset, const char *text,
			    unsigned int len)
{
	unsigned int sz = *offset;	/* the name DMEMIT() works on */

	DMEMIT("%.*s", (int)len, text);
	*offset = sz;
}

/* The per-bio log line; one shared printk rate limit, like the C target. */
void basic_target_glue_log_bio(const char *op, sector_t sector,
			       unsigned int size)
{
	pr_info_ratelimited("%s request: sector %llu size %u\n", op,
			    (unsigned long long)sector, size);
}

int basic_target_glue_call_callout(basic_target_callout_fn fn,
				   struct dm_target *ti, struct dm_dev *dev,
				   sector_t start, sector_t len, void *data)
{
	return fn(ti, dev, start, len, data);
}
