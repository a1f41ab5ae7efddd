// SPDX-License-Identifier: GPL-2.0-only
/*
 * basic_target: a pass-through device-mapper target written in C.
 *
 * It maps a range of one underlying device, exactly like dm-linear, and on
 * the way counts the reads and writes that carry data and logs every bio
 * (rate-limited) until told "log off".
 *
 *   Table:   <dev_path> <start_sector>
 *   Status:  reads=<n> writes=<n> read_bytes=<n> write_bytes=<n>   (INFO)
 *            <major:minor> <start_sector>                          (TABLE)
 *   Message: log on | log off
 *
 * kmod/rust holds the same target written in Rust; both must behave
 * identically, down to the text of every message.
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

#define DM_MSG_PREFIX "basic_target"

/* Per-table-line state, hung off ti->private. */
struct basic_target_c {
	struct dm_dev *dev;
	sector_t start;
	/* map() runs concurrently on many CPUs: all counters are atomic. */
	atomic64_t reads;
	atomic64_t writes;
	atomic64_t read_bytes;
	atomic64_t write_bytes;
	/* Per-bio logging; read with READ_ONCE() in map(). */
	bool log;
};

enum basic_target_op {
	BASIC_TARGET_READ,
	BASIC_TARGET_WRITE,
	BASIC_TARGET_FLUSH,
	BASIC_TARGET_DISCARD,
	BASIC_TARGET_OTHER,
};

static const char * const basic_target_op_names[] = {
	[BASIC_TARGET_READ] = "read",
	[BASIC_TARGET_WRITE] = "write",
	[BASIC_TARGET_FLUSH] = "flush",
	[BASIC_TARGET_DISCARD] = "discard",
	[BASIC_TARGET_OTHER] = "other",
};

/*
 * Strict unsigned decimal: digits only, no sign, no trailing junk
 * ("12x" is refused), no overflow.
 */
static int basic_target_parse_sector(const char *arg, sector_t *sector)
{
	unsigned long long tmp;

	if (!isdigit(arg[0]) || kstrtoull(arg, 10, &tmp))
		return -EINVAL;
	*sector = tmp;
	return 0;
}

/*
 * Construct a mapping: <dev_path> <start_sector>
 */
static int basic_target_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct basic_target_c *bc;
	struct dm_dev *dev;
	sector_t start;
	int ret;

	if (argc != 2) {
		ti->error = "invalid argument count";
		return -EINVAL;
	}

	if (basic_target_parse_sector(argv[1], &start)) {
		ti->error = "invalid start sector";
		return -EINVAL;
	}

	ret = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table), &dev);
	if (ret) {
		ti->error = "device lookup failed";
		return ret;
	}

	bc = kzalloc_obj(*bc);
	if (!bc) {
		dm_put_device(ti, dev);
		ti->error = "cannot allocate context";
		return -ENOMEM;
	}
	bc->dev = dev;
	bc->start = start;
	bc->log = true;

	/*
	 * Ask DM core to send us one bio of each of these kinds; they pass
	 * straight through to the underlying device.  Empty flushes are not
	 * allowed to bypass map() so that they show up in the log.
	 */
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_secure_erase_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->private = bc;
	return 0;
}

static void basic_target_dtr(struct dm_target *ti)
{
	struct basic_target_c *bc = ti->private;

	dm_put_device(ti, bc->dev);
	kfree(bc);
}

static enum basic_target_op basic_target_classify(struct bio *bio)
{
	/* DM core hands flushes to targets as empty REQ_PREFLUSH writes. */
	if ((bio->bi_opf & REQ_PREFLUSH) && !bio->bi_iter.bi_size)
		return BASIC_TARGET_FLUSH;

	switch (bio_op(bio)) {
	case REQ_OP_READ:
		return BASIC_TARGET_READ;
	case REQ_OP_WRITE:
		return BASIC_TARGET_WRITE;
	case REQ_OP_FLUSH:
		return BASIC_TARGET_FLUSH;
	case REQ_OP_DISCARD:
		return BASIC_TARGET_DISCARD;
	default:
		return BASIC_TARGET_OTHER;
	}
}

static int basic_target_map(struct dm_target *ti, struct bio *bio)
{
	struct basic_target_c *bc = ti->private;
	enum basic_target_op op = basic_target_classify(bio);
	sector_t sector = bio->bi_iter.bi_sector;
	unsigned int size = bio->bi_iter.bi_size;

	if (READ_ONCE(bc->log))
		pr_info_ratelimited("%s request: sector %llu size %u\n",
				    basic_target_op_names[op],
				    (unsigned long long)sector, size);

	if (size && op == BASIC_TARGET_READ) {
		atomic64_inc(&bc->reads);
		atomic64_add(size, &bc->read_bytes);
	} else if (size && op == BASIC_TARGET_WRITE) {
		atomic64_inc(&bc->writes);
		atomic64_add(size, &bc->write_bytes);
	}

	bio_set_dev(bio, bc->dev->bdev);
	/* An empty bio (a flush) has no meaningful sector to move. */
	if (size)
		bio->bi_iter.bi_sector = bc->start + dm_target_offset(ti, sector);

	return DM_MAPIO_REMAPPED;
}

static void basic_target_status(struct dm_target *ti, status_type_t type,
				unsigned int status_flags, char *result,
				unsigned int maxlen)
{
	struct basic_target_c *bc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("reads=%llu writes=%llu read_bytes=%llu write_bytes=%llu",
		       (unsigned long long)atomic64_read(&bc->reads),
		       (unsigned long long)atomic64_read(&bc->writes),
		       (unsigned long long)atomic64_read(&bc->read_bytes),
		       (unsigned long long)atomic64_read(&bc->write_bytes));
		break;

	case STATUSTYPE_TABLE:
		DMEMIT("%s %llu", bc->dev->name, (unsigned long long)bc->start);
		break;

	case STATUSTYPE_IMA:
		result[0] = '\0';
		break;
	}
}

static void basic_target_warn_message(unsigned int argc, char **argv)
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

static int basic_target_message(struct dm_target *ti, unsigned int argc,
				char **argv, char *result, unsigned int maxlen)
{
	struct basic_target_c *bc = ti->private;

	if (argc == 2 && !strcmp(argv[0], "log")) {
		if (!strcmp(argv[1], "on")) {
			WRITE_ONCE(bc->log, true);
			return 0;
		}
		if (!strcmp(argv[1], "off")) {
			WRITE_ONCE(bc->log, false);
			return 0;
		}
	}

	basic_target_warn_message(argc, argv);
	return -EINVAL;
}

static int basic_target_iterate_devices(struct dm_target *ti,
					iterate_devices_callout_fn fn, void *data)
{
	struct basic_target_c *bc = ti->private;

	return fn(ti, bc->dev, bc->start, ti->len, data);
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
module_dm(basic_target);

MODULE_DESCRIPTION("dmbench basic_target: counting, logging pass-through DM target (C)");
MODULE_LICENSE("GPL");
