// SPDX-License-Identifier: GPL-2.0-only
/*
 * drop_target: a fault injector that loses every Nth write.
 *
 *   Table:   <dev_path> <n>
 *   Status:  writes=<n> dropped=<n>        (INFO)
 *            <major:minor> <n>             (TABLE)
 *
 * Every write that carries data is counted; the Nth, 2Nth, ... one is
 * reported done without being written, the way a disk with a lying write
 * cache loses data.  Everything else passes through, like dm-linear.
 */

#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/ctype.h>
#include <linux/device-mapper.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/slab.h>

struct drop_target_c {
	struct dm_dev *dev;
	u32 every;
	atomic64_t writes;
	atomic64_t dropped;
};

/* <dev_path> <n> */
static int drop_target_ctr(struct dm_target *ti, unsigned int argc,
			   char **argv)
{
	struct drop_target_c *dc;
	u32 every;
	int ret;

	if (argc != 2) {
		ti->error = "invalid argument count";
		return -EINVAL;
	}
	if (!isdigit(argv[1][0]) || kstrtou32(argv[1], 10, &every) || !every) {
		ti->error = "invalid write interval";
		return -EINVAL;
	}
	dc = kzalloc_obj(*dc);
	if (!dc) {
		ti->error = "cannot allocate context";
		return -ENOMEM;
	}
	ret = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table),
			    &dc->dev);
	if (ret) {
		kfree(dc);
		ti->error = "device lookup failed";
		return ret;
	}
	dc->every = every;
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_secure_erase_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->private = dc;
	return 0;
}

static void drop_target_dtr(struct dm_target *ti)
{
	struct drop_target_c *dc = ti->private;

	dm_put_device(ti, dc->dev);
	kfree(dc);
}

static int drop_target_map(struct dm_target *ti, struct bio *bio)
{
	struct drop_target_c *dc = ti->private;

	if (bio_op(bio) == REQ_OP_WRITE && bio_sectors(bio)) {
		/*
		 * inc_return: each write gets its own number, even when several
		 * CPUs map writes at the same time.
		 */
		u64 nth = atomic64_inc_return(&dc->writes);

		if (!do_div(nth, dc->every)) {
			atomic64_inc(&dc->dropped);
			/* Success, and not a byte written. */
			bio_endio(bio);
			return DM_MAPIO_SUBMITTED;
		}
	}
	bio_set_dev(bio, dc->dev->bdev);
	if (bio_sectors(bio))
		bio->bi_iter.bi_sector =
			dm_target_offset(ti, bio->bi_iter.bi_sector);
	return DM_MAPIO_REMAPPED;
}

static void drop_target_status(struct dm_target *ti, status_type_t type,
			       unsigned int status_flags, char *result,
			       unsigned int maxlen)
{
	struct drop_target_c *dc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("writes=%llu dropped=%llu",
		       (unsigned long long)atomic64_read(&dc->writes),
		       (unsigned long long)atomic64_read(&dc->dropped));
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %u", dc->dev->name, dc->every);
		break;
	case STATUSTYPE_IMA:
		result[0] = '\0';
		break;
	}
}

static int drop_target_iterate_devices(struct dm_target *ti,
				       iterate_devices_callout_fn fn,
				       void *data)
{
	struct drop_target_c *dc = ti->private;

	return fn(ti, dc->dev, 0, ti->len, data);
}

static struct target_type drop_target_target = {
	.name = "drop_target",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = drop_target_ctr,
	.dtr = drop_target_dtr,
	.map = drop_target_map,
	.status = drop_target_status,
	.iterate_devices = drop_target_iterate_devices,
};
module_dm(drop_target);

MODULE_DESCRIPTION("drop_target: loses every Nth write");
MODULE_LICENSE("GPL");
