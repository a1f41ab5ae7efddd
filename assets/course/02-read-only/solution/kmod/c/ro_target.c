// SPDX-License-Identifier: GPL-2.0-only
/*
 * ro_target: a read-only view of one device.
 *
 *   Table:   <dev_path>
 *   Status:  rejected=<n>          (INFO: writes refused so far)
 *            <major:minor>         (TABLE)
 *
 * Reads pass through; every bio that would change the device fails with
 * EIO; an empty flush succeeds at once, since there is nothing to flush.
 */

#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>

struct ro_target_c {
	struct dm_dev *dev;
	atomic64_t rejected;
};

/* <dev_path> */
static int ro_target_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct ro_target_c *rc;
	int ret;

	if (argc != 1) {
		ti->error = "invalid argument count";
		return -EINVAL;
	}
	rc = kzalloc_obj(*rc);
	if (!rc) {
		ti->error = "cannot allocate context";
		return -ENOMEM;
	}
	ret = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table),
			    &rc->dev);
	if (ret) {
		kfree(rc);
		ti->error = "device lookup failed";
		return ret;
	}
	/*
	 * Flushes, discards, secure erases and write-zeroes all come to map(),
	 * so that it decides about them.
	 */
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_secure_erase_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->private = rc;
	return 0;
}

static void ro_target_dtr(struct dm_target *ti)
{
	struct ro_target_c *rc = ti->private;

	dm_put_device(ti, rc->dev);
	kfree(rc);
}

static int ro_target_map(struct dm_target *ti, struct bio *bio)
{
	struct ro_target_c *rc = ti->private;

	if (op_is_write(bio_op(bio))) {
		if (!bio_sectors(bio)) {
			/* An empty flush: nothing was written, nothing to flush. */
			bio_endio(bio);
			return DM_MAPIO_SUBMITTED;
		}
		atomic64_inc(&rc->rejected);
		return DM_MAPIO_KILL;
	}
	bio_set_dev(bio, rc->dev->bdev);
	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	return DM_MAPIO_REMAPPED;
}

static void ro_target_status(struct dm_target *ti, status_type_t type,
			     unsigned int status_flags, char *result,
			     unsigned int maxlen)
{
	struct ro_target_c *rc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("rejected=%llu",
		       (unsigned long long)atomic64_read(&rc->rejected));
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s", rc->dev->name);
		break;
	case STATUSTYPE_IMA:
		result[0] = '\0';
		break;
	}
}

static int ro_target_iterate_devices(struct dm_target *ti,
				     iterate_devices_callout_fn fn, void *data)
{
	struct ro_target_c *rc = ti->private;

	return fn(ti, rc->dev, 0, ti->len, data);
}

static struct target_type ro_target_target = {
	.name = "ro_target",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = ro_target_ctr,
	.dtr = ro_target_dtr,
	.map = ro_target_map,
	.status = ro_target_status,
	.iterate_devices = ro_target_iterate_devices,
};
module_dm(ro_target);

MODULE_DESCRIPTION("ro_target: a read-only view of one device");
MODULE_LICENSE("GPL");
