// SPDX-License-Identifier: GPL-2.0-only
/*
 * first_target: map a range of one device, starting at an offset.
 *
 *   Table:   <dev_path> <offset>
 *   Status:  <major:minor> <offset>      (TABLE)
 *
 * Sector s of the mapped device is sector offset + (s - ti->begin) of
 * <dev_path>: what dm-linear does.
 */

#include <linux/bio.h>
#include <linux/ctype.h>
#include <linux/device-mapper.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>

struct first_target_c {
	struct dm_dev *dev;
	sector_t offset;
};

/* <dev_path> <offset> */
static int first_target_ctr(struct dm_target *ti, unsigned int argc,
			    char **argv)
{
	struct first_target_c *fc;
	unsigned long long offset;
	int ret;

	if (argc != 2) {
		ti->error = "invalid argument count";
		return -EINVAL;
	}
	if (!isdigit(argv[1][0]) || kstrtoull(argv[1], 10, &offset)) {
		ti->error = "invalid offset";
		return -EINVAL;
	}
	fc = kzalloc_obj(*fc);
	if (!fc) {
		ti->error = "cannot allocate context";
		return -ENOMEM;
	}
	ret = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table),
			    &fc->dev);
	if (ret) {
		kfree(fc);
		ti->error = "device lookup failed";
		return ret;
	}
	fc->offset = offset;
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_secure_erase_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->private = fc;
	return 0;
}

static void first_target_dtr(struct dm_target *ti)
{
	struct first_target_c *fc = ti->private;

	dm_put_device(ti, fc->dev);
	kfree(fc);
}

static int first_target_map(struct dm_target *ti, struct bio *bio)
{
	struct first_target_c *fc = ti->private;

	bio_set_dev(bio, fc->dev->bdev);
	/*
	 * TODO: bi_sector is a sector of the mapped device.  Unless the bio is
	 * empty (a flush), send it to sector offset + (sector - ti->begin) of
	 * the disk: dm_target_offset(ti, sector) computes sector - ti->begin.
	 * As it is, the bio keeps its sector number.
	 */
	return DM_MAPIO_REMAPPED;
}

static void first_target_status(struct dm_target *ti, status_type_t type,
				unsigned int status_flags, char *result,
				unsigned int maxlen)
{
	struct first_target_c *fc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
	case STATUSTYPE_IMA:
		result[0] = '\0';
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %llu", fc->dev->name,
		       (unsigned long long)fc->offset);
		break;
	}
}

static int first_target_iterate_devices(struct dm_target *ti,
					iterate_devices_callout_fn fn,
					void *data)
{
	struct first_target_c *fc = ti->private;

	return fn(ti, fc->dev, fc->offset, ti->len, data);
}

static struct target_type first_target_target = {
	.name = "first_target",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = first_target_ctr,
	.dtr = first_target_dtr,
	.map = first_target_map,
	.status = first_target_status,
	.iterate_devices = first_target_iterate_devices,
};
module_dm(first_target);

MODULE_DESCRIPTION("first_target: one device from an offset");
MODULE_LICENSE("GPL");
