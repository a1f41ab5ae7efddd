// SPDX-License-Identifier: GPL-2.0-only
/*
 * count_target: a pass-through that counts what goes through it.
 *
 *   Table:   <dev_path>
 *   Status:  reads=<n> writes=<n> read_bytes=<n> write_bytes=<n> in_flight=<n>
 *   Message: stats   replies with the status line
 *            reset   sets the read and write counters to zero
 *
 * Reads and writes are counted when they carry data; in_flight is the
 * number of bios mapped and not yet completed (map adds one, end_io takes
 * it off again), 0 when the device is idle.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

struct count_target_c {
	struct dm_dev *dev;
	/* map() and end_io() run on many CPUs at once: all atomic. */
	atomic64_t reads;
	atomic64_t writes;
	atomic64_t read_bytes;
	atomic64_t write_bytes;
	atomic64_t in_flight;
};

/* <dev_path> */
static int count_target_ctr(struct dm_target *ti, unsigned int argc,
			    char **argv)
{
	struct count_target_c *cc;
	int ret;

	if (argc != 1) {
		ti->error = "invalid argument count";
		return -EINVAL;
	}
	cc = kzalloc_obj(*cc);
	if (!cc) {
		ti->error = "cannot allocate context";
		return -ENOMEM;
	}
	ret = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table),
			    &cc->dev);
	if (ret) {
		kfree(cc);
		ti->error = "device lookup failed";
		return ret;
	}
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_secure_erase_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->private = cc;
	return 0;
}

static void count_target_dtr(struct dm_target *ti)
{
	struct count_target_c *cc = ti->private;

	dm_put_device(ti, cc->dev);
	kfree(cc);
}

static int count_target_map(struct dm_target *ti, struct bio *bio)
{
	struct count_target_c *cc = ti->private;
	unsigned int size = bio->bi_iter.bi_size;

	/*
	 * TODO: count reads and writes that carry data (size != 0): one more
	 * in reads or writes and size more bytes, by bio_op(bio) (REQ_OP_READ,
	 * REQ_OP_WRITE).  Flushes, discards and the like do not count.
	 */
	bio_set_dev(bio, cc->dev->bdev);
	if (size)
		bio->bi_iter.bi_sector =
			dm_target_offset(ti, bio->bi_iter.bi_sector);
	/* TODO: one more bio in flight; end_io takes it off again. */
	return DM_MAPIO_REMAPPED;
}

static int count_target_end_io(struct dm_target *ti, struct bio *bio,
			       blk_status_t *error)
{
	/* TODO: this bio has completed: one fewer in flight. */
	return DM_ENDIO_DONE;
}

static void count_target_emit(struct count_target_c *cc, char *result,
			      unsigned int maxlen)
{
	unsigned int sz = 0;

	DMEMIT("reads=%llu writes=%llu read_bytes=%llu write_bytes=%llu in_flight=%llu",
	       (unsigned long long)atomic64_read(&cc->reads),
	       (unsigned long long)atomic64_read(&cc->writes),
	       (unsigned long long)atomic64_read(&cc->read_bytes),
	       (unsigned long long)atomic64_read(&cc->write_bytes),
	       (unsigned long long)atomic64_read(&cc->in_flight));
}

static void count_target_status(struct dm_target *ti, status_type_t type,
				unsigned int status_flags, char *result,
				unsigned int maxlen)
{
	struct count_target_c *cc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		count_target_emit(cc, result, maxlen);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s", cc->dev->name);
		break;
	case STATUSTYPE_IMA:
		result[0] = '\0';
		break;
	}
}

/* The message, joined by spaces and cut at 127 bytes, in the log. */
static void count_target_warn_message(unsigned int argc, char **argv)
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
static int count_target_message(struct dm_target *ti, unsigned int argc,
				char **argv, char *result, unsigned int maxlen)
{
	/*
	 * TODO: "stats" (one argument) writes the status line into @result
	 * (see count_target_emit()) and returns 1; "reset" sets the four read
	 * and write counters to zero and returns 0.
	 */
	count_target_warn_message(argc, argv);
	return -EINVAL;
}

static int count_target_iterate_devices(struct dm_target *ti,
					iterate_devices_callout_fn fn,
					void *data)
{
	struct count_target_c *cc = ti->private;

	return fn(ti, cc->dev, 0, ti->len, data);
}

static struct target_type count_target_target = {
	.name = "count_target",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = count_target_ctr,
	.dtr = count_target_dtr,
	.map = count_target_map,
	.end_io = count_target_end_io,
	.status = count_target_status,
	.message = count_target_message,
	.iterate_devices = count_target_iterate_devices,
};
module_dm(count_target);

MODULE_DESCRIPTION("count_target: a counting pass-through");
MODULE_LICENSE("GPL");
