// SPDX-License-Identifier: GPL-2.0-only
/*
 * mirror_target: every write goes to two devices (RAID 1 without resync).
 *
 *   Table:   <dev_a> <dev_b>
 *   Status:  <major:minor> <major:minor>     (TABLE)
 *
 * A write is cloned: the clone goes to dev_b, the original to dev_a, and the
 * writer hears back once both are done (an error on either fails the
 * write).  Reads are served by dev_a.  Flushes, discards and write-zeroes
 * are sent once to each device by DM core itself.
 */

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/device-mapper.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/slab.h>

struct mirror_target_c {
	struct dm_dev *legs[2];
	/* Where the clones of writes come from. */
	struct bio_set bs;
};

/* <dev_a> <dev_b> */
static int mirror_target_ctr(struct dm_target *ti, unsigned int argc,
			     char **argv)
{
	struct mirror_target_c *mc;
	int ret;

	if (argc != 2) {
		ti->error = "invalid argument count";
		return -EINVAL;
	}
	mc = kzalloc_obj(*mc);
	if (!mc) {
		ti->error = "cannot allocate context";
		return -ENOMEM;
	}
	ret = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table),
			    &mc->legs[0]);
	if (ret) {
		ti->error = "device lookup failed";
		goto bad_a;
	}
	ret = dm_get_device(ti, argv[1], dm_table_get_mode(ti->table),
			    &mc->legs[1]);
	if (ret) {
		ti->error = "device lookup failed";
		goto bad_b;
	}
	/*
	 * Clones are allocated in map(), under the submitting task's bio list:
	 * the rescuer keeps a full pool from deadlocking on bios queued there.
	 */
	ret = bioset_init(&mc->bs, BIO_POOL_SIZE, 0, BIOSET_NEED_RESCUER);
	if (ret) {
		ti->error = "cannot allocate bio pool";
		goto bad_bs;
	}
	/* Two of each, one per device; dm_bio_get_target_bio_nr() says which. */
	ti->num_flush_bios = 2;
	ti->num_discard_bios = 2;
	ti->num_write_zeroes_bios = 2;
	ti->private = mc;
	return 0;

bad_bs:
	dm_put_device(ti, mc->legs[1]);
bad_b:
	dm_put_device(ti, mc->legs[0]);
bad_a:
	kfree(mc);
	return ret;
}

static void mirror_target_dtr(struct dm_target *ti)
{
	struct mirror_target_c *mc = ti->private;

	bioset_exit(&mc->bs);
	dm_put_device(ti, mc->legs[0]);
	dm_put_device(ti, mc->legs[1]);
	kfree(mc);
}

static int mirror_target_map(struct dm_target *ti, struct bio *bio)
{
	struct mirror_target_c *mc = ti->private;
	sector_t sector;
	struct bio *clone;

	if (!bio_sectors(bio)) {
		/* A flush: copy 0 for dev_a, copy 1 for dev_b. */
		bio_set_dev(bio, mc->legs[dm_bio_get_target_bio_nr(bio)]->bdev);
		return DM_MAPIO_REMAPPED;
	}
	sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	if (bio_op(bio) == REQ_OP_WRITE) {
		/*
		 * The copy for dev_b shares the pages and is chained to the
		 * original, which completes only when both have.
		 */
		clone = bio_alloc_clone(mc->legs[1]->bdev, bio, GFP_NOIO,
					&mc->bs);
		if (!clone)
			return DM_MAPIO_KILL;
		clone->bi_iter.bi_sector = sector;
		bio_chain(clone, bio);
		submit_bio_noacct(clone);
		bio_set_dev(bio, mc->legs[0]->bdev);
	} else {
		/* Reads (always copy 0), and the copies of discards etc. */
		bio_set_dev(bio, mc->legs[dm_bio_get_target_bio_nr(bio)]->bdev);
	}
	bio->bi_iter.bi_sector = sector;
	return DM_MAPIO_REMAPPED;
}

static void mirror_target_status(struct dm_target *ti, status_type_t type,
				 unsigned int status_flags, char *result,
				 unsigned int maxlen)
{
	struct mirror_target_c *mc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
	case STATUSTYPE_IMA:
		result[0] = '\0';
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s", mc->legs[0]->name, mc->legs[1]->name);
		break;
	}
}

static int mirror_target_iterate_devices(struct dm_target *ti,
					 iterate_devices_callout_fn fn,
					 void *data)
{
	struct mirror_target_c *mc = ti->private;
	int ret;

	ret = fn(ti, mc->legs[0], 0, ti->len, data);
	if (!ret)
		ret = fn(ti, mc->legs[1], 0, ti->len, data);
	return ret;
}

static struct target_type mirror_target_target = {
	.name = "mirror_target",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = mirror_target_ctr,
	.dtr = mirror_target_dtr,
	.map = mirror_target_map,
	.status = mirror_target_status,
	.iterate_devices = mirror_target_iterate_devices,
};
module_dm(mirror_target);

MODULE_DESCRIPTION("mirror_target: writes go to two devices");
MODULE_LICENSE("GPL");
