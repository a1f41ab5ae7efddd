// SPDX-License-Identifier: GPL-2.0-only
/*
 * stripe_target: striping over two devices, as RAID 0 does.
 *
 *   Table:   <chunk_sectors> <dev_a> <dev_b>
 *   Status:  <chunk_sectors> <major:minor> <major:minor>     (TABLE)
 *
 * The mapped device is cut into chunks of chunk_sectors; chunk 0 goes to
 * dev_a, chunk 1 to dev_b, chunk 2 to dev_a again, and so on, each device
 * holding its chunks one after the other from sector 0: the layout of the
 * stock "striped" target with two devices.
 */

#include <linux/bio.h>
#include <linux/ctype.h>
#include <linux/device-mapper.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>

struct stripe_target_c {
	u32 chunk;
	struct dm_dev *legs[2];
};

/* <chunk_sectors> <dev_a> <dev_b> */
static int stripe_target_ctr(struct dm_target *ti, unsigned int argc,
			     char **argv)
{
	struct stripe_target_c *sc;
	sector_t len = ti->len;
	u32 chunk;
	int ret;

	if (argc != 3) {
		ti->error = "invalid argument count";
		return -EINVAL;
	}
	if (!isdigit(argv[0][0]) || kstrtou32(argv[0], 10, &chunk) || !chunk ||
	    chunk > U32_MAX / 2) {
		ti->error = "invalid chunk size";
		return -EINVAL;
	}
	/* Both devices hold the same number of whole chunks. */
	if (sector_div(len, 2 * chunk)) {
		ti->error = "length is not a multiple of two chunks";
		return -EINVAL;
	}
	sc = kzalloc_obj(*sc);
	if (!sc) {
		ti->error = "cannot allocate context";
		return -ENOMEM;
	}
	sc->chunk = chunk;
	ret = dm_get_device(ti, argv[1], dm_table_get_mode(ti->table),
			    &sc->legs[0]);
	if (ret) {
		ti->error = "device lookup failed";
		goto bad_a;
	}
	ret = dm_get_device(ti, argv[2], dm_table_get_mode(ti->table),
			    &sc->legs[1]);
	if (ret) {
		ti->error = "device lookup failed";
		goto bad_b;
	}
	/* No bio may cross a chunk boundary: DM core splits them there. */
	ret = dm_set_target_max_io_len(ti, chunk);
	if (ret) {
		ti->error = "cannot set the chunk size";
		goto bad_len;
	}
	/* One flush per device; dm_bio_get_target_bio_nr() says which. */
	ti->num_flush_bios = 2;
	ti->private = sc;
	return 0;

bad_len:
	dm_put_device(ti, sc->legs[1]);
bad_b:
	dm_put_device(ti, sc->legs[0]);
bad_a:
	kfree(sc);
	return ret;
}

static void stripe_target_dtr(struct dm_target *ti)
{
	struct stripe_target_c *sc = ti->private;

	dm_put_device(ti, sc->legs[0]);
	dm_put_device(ti, sc->legs[1]);
	kfree(sc);
}

static int stripe_target_map(struct dm_target *ti, struct bio *bio)
{
	struct stripe_target_c *sc = ti->private;
	sector_t offset;

	if (!bio_sectors(bio)) {
		bio_set_dev(bio, sc->legs[dm_bio_get_target_bio_nr(bio)]->bdev);
		return DM_MAPIO_REMAPPED;
	}
	offset = dm_target_offset(ti, bio->bi_iter.bi_sector);
	/*
	 * TODO: which chunk of the target is offset in, and where in it?
	 * (sector_div(n, d) divides n in place and returns the remainder.)
	 * Even chunks go to legs[0], odd ones to legs[1], and each device
	 * holds its chunks one after the other from sector 0.  As it is,
	 * everything goes to legs[0], as if it were dm-linear.
	 */
	bio_set_dev(bio, sc->legs[0]->bdev);
	bio->bi_iter.bi_sector = offset;
	return DM_MAPIO_REMAPPED;
}

static void stripe_target_status(struct dm_target *ti, status_type_t type,
				 unsigned int status_flags, char *result,
				 unsigned int maxlen)
{
	struct stripe_target_c *sc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
	case STATUSTYPE_IMA:
		result[0] = '\0';
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%u %s %s", sc->chunk, sc->legs[0]->name,
		       sc->legs[1]->name);
		break;
	}
}

static int stripe_target_iterate_devices(struct dm_target *ti,
					 iterate_devices_callout_fn fn,
					 void *data)
{
	struct stripe_target_c *sc = ti->private;
	int ret;

	/* Each device holds half of the target. */
	ret = fn(ti, sc->legs[0], 0, ti->len >> 1, data);
	if (!ret)
		ret = fn(ti, sc->legs[1], 0, ti->len >> 1, data);
	return ret;
}

static struct target_type stripe_target_target = {
	.name = "stripe_target",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = stripe_target_ctr,
	.dtr = stripe_target_dtr,
	.map = stripe_target_map,
	.status = stripe_target_status,
	.iterate_devices = stripe_target_iterate_devices,
};
module_dm(stripe_target);

MODULE_DESCRIPTION("stripe_target: striping over two devices");
MODULE_LICENSE("GPL");
