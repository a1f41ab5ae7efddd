// SPDX-License-Identifier: GPL-2.0-only
/*
 * @NAME@: a pass-through device-mapper target, written in C.
 *
 * It maps a range of one underlying device, like dm-linear, and counts the
 * reads and writes that carry data.
 *
 *   Table:   <dev_path> <start_sector>
 *   Status:  reads=<n> writes=<n>                 (INFO)
 *            <major:minor> <start_sector>         (TABLE)
 *   Message: stats   replies with the status line
 *            reset   sets the counters to zero
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/ctype.h>
#include <linux/device-mapper.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

/* One table line's state, hung off ti->private. */
struct @NAME@_c {
	struct dm_dev *dev;
	sector_t start;
	/* map() runs concurrently on many CPUs: the counters are atomic. */
	atomic64_t reads;
	atomic64_t writes;
};

/* Strict unsigned decimal: digits only, no sign, no junk, no overflow. */
static int @NAME@_parse_sector(const char *arg, sector_t *sector)
{
	unsigned long long tmp;

	if (!isdigit(arg[0]) || kstrtoull(arg, 10, &tmp))
		return -EINVAL;
	*sector = tmp;
	return 0;
}

/* <dev_path> <start_sector> */
static int @NAME@_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct @NAME@_c *c;
	struct dm_dev *dev;
	sector_t start;
	int ret;

	if (argc != 2) {
		ti->error = "invalid argument count";
		return -EINVAL;
	}
	if (@NAME@_parse_sector(argv[1], &start)) {
		ti->error = "invalid start sector";
		return -EINVAL;
	}
	ret = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table), &dev);
	if (ret) {
		ti->error = "device lookup failed";
		return ret;
	}
	c = kzalloc_obj(*c);
	if (!c) {
		dm_put_device(ti, dev);
		ti->error = "cannot allocate context";
		return -ENOMEM;
	}
	c->dev = dev;
	c->start = start;

	/* Flushes, discards and write-zeroes pass through too, one each. */
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_secure_erase_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->private = c;
	return 0;
}

static void @NAME@_dtr(struct dm_target *ti)
{
	struct @NAME@_c *c = ti->private;

	dm_put_device(ti, c->dev);
	kfree(c);
}

static int @NAME@_map(struct dm_target *ti, struct bio *bio)
{
	struct @NAME@_c *c = ti->private;

	if (bio->bi_iter.bi_size) {
		if (bio_op(bio) == REQ_OP_READ)
			atomic64_inc(&c->reads);
		else if (bio_op(bio) == REQ_OP_WRITE)
			atomic64_inc(&c->writes);
	}

	bio_set_dev(bio, c->dev->bdev);
	/* An empty bio (a flush) has no sector to move. */
	if (bio->bi_iter.bi_size)
		bio->bi_iter.bi_sector = c->start +
			dm_target_offset(ti, bio->bi_iter.bi_sector);
	return DM_MAPIO_REMAPPED;
}

static void @NAME@_emit_counters(struct @NAME@_c *c, char *result,
				 unsigned int maxlen)
{
	unsigned int sz = 0;

	DMEMIT("reads=%llu writes=%llu",
	       (unsigned long long)atomic64_read(&c->reads),
	       (unsigned long long)atomic64_read(&c->writes));
}

static void @NAME@_status(struct dm_target *ti, status_type_t type,
			  unsigned int status_flags, char *result,
			  unsigned int maxlen)
{
	struct @NAME@_c *c = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		@NAME@_emit_counters(c, result, maxlen);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %llu", c->dev->name, (unsigned long long)c->start);
		break;
	case STATUSTYPE_IMA:
		result[0] = '\0';
		break;
	}
}

/* The message, joined by spaces and cut at 127 bytes, in the log. */
static void @NAME@_warn_message(unsigned int argc, char **argv)
{
	char text[128];
	size_t len = 0;
	unsigned int i;

	text[0] = '\0';
	for (i = 0; i < argc; i++)
		len += scnprintf(text + len, sizeof(text) - len, "%s%s",
				 i ? " " : "", argv[i]);
	pr_warn("unrecognised message: %s\n", text);
}

/* stats | reset; returning 1 tells DM core there is a reply in @result. */
static int @NAME@_message(struct dm_target *ti, unsigned int argc,
			  char **argv, char *result, unsigned int maxlen)
{
	struct @NAME@_c *c = ti->private;

	if (argc == 1 && !strcmp(argv[0], "stats")) {
		@NAME@_emit_counters(c, result, maxlen);
		return 1;
	}
	if (argc == 1 && !strcmp(argv[0], "reset")) {
		atomic64_set(&c->reads, 0);
		atomic64_set(&c->writes, 0);
		return 0;
	}
	@NAME@_warn_message(argc, argv);
	return -EINVAL;
}

static int @NAME@_iterate_devices(struct dm_target *ti,
				  iterate_devices_callout_fn fn, void *data)
{
	struct @NAME@_c *c = ti->private;

	return fn(ti, c->dev, c->start, ti->len, data);
}

static struct target_type @NAME@_target = {
	.name = "@NAME@",
	.version = {0, 1, 0},
	.module = THIS_MODULE,
	.ctr = @NAME@_ctr,
	.dtr = @NAME@_dtr,
	.map = @NAME@_map,
	.status = @NAME@_status,
	.message = @NAME@_message,
	.iterate_devices = @NAME@_iterate_devices,
};
module_dm(@NAME@);

MODULE_DESCRIPTION("@NAME@: a pass-through device-mapper target");
MODULE_LICENSE("GPL");
