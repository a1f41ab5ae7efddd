/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The contract between dm_glue.c (C) and dm.rs (Rust): the generic glue
 * that lets a device-mapper target be written in Rust.
 *
 * Rust cannot see <linux/device-mapper.h>: the kernel's Rust bindings do
 * not include it, so struct dm_target, struct dm_dev and struct target_type
 * are unknown there, and macros such as bio_op(), bio_set_dev() and
 * DMEMIT() do not exist at all.  So the C half owns struct target_type and
 * offers one small function per thing Rust needs to read or do; the Rust
 * half makes every decision.
 *
 * Both directions:
 *
 *   C -> Rust: struct dm_glue_ops, a table of callbacks built by dm.rs for
 *              the target's type (a NULL entry means "not implemented") and
 *              handed to dm_glue_register() with the target's name and
 *              version.  The glue's target_type callbacks call through it.
 *   Rust -> C: the dm_glue_*() functions below.
 *
 * Nothing checks that these prototypes match the declarations in dm.rs:
 * when you change one, change the other with the same types (sector_t is
 * u64, unsigned int is c_uint).  This file and dm_glue.c are the same for
 * every target; a target never needs to edit them.
 */
#ifndef DM_GLUE_H
#define DM_GLUE_H

#include <linux/types.h>

struct bio;
struct bio_set;
struct dm_dev;
struct dm_target;
struct dm_glue_type;

/*
 * map() returns one of these; dm_glue.c checks at build time that they
 * equal DM_MAPIO_SUBMITTED, DM_MAPIO_REMAPPED and DM_MAPIO_KILL.
 */
#define DM_GLUE_MAPIO_SUBMITTED		0
#define DM_GLUE_MAPIO_REMAPPED		1
#define DM_GLUE_MAPIO_KILL		4

/* end_io() returns one of these: DM_ENDIO_DONE, DM_ENDIO_REQUEUE. */
#define DM_GLUE_ENDIO_DONE		0
#define DM_GLUE_ENDIO_REQUEUE		2

/* Status kinds: STATUSTYPE_INFO, STATUSTYPE_TABLE, STATUSTYPE_IMA. */
#define DM_GLUE_STATUS_INFO		0
#define DM_GLUE_STATUS_TABLE		1
#define DM_GLUE_STATUS_IMA		2

/* Same shape as iterate_devices_callout_fn in <linux/device-mapper.h>. */
typedef int (*dm_glue_callout_fn)(struct dm_target *ti, struct dm_dev *dev,
				  sector_t start, sector_t len, void *data);

/*
 * The target's operations, implemented in Rust.  ctr, dtr and map are
 * always set; the others may be NULL, and then the target_type has no
 * such callback either.
 *
 * end_io gets and may change the completion status as an errno (0 for
 * success); message returns 1 when it wrote a reply into @result, as
 * DM core expects.
 */
struct dm_glue_ops {
	int (*ctr)(struct dm_target *ti, unsigned int argc, char **argv);
	void (*dtr)(struct dm_target *ti);
	int (*map)(struct dm_target *ti, struct bio *bio);
	int (*end_io)(struct dm_target *ti, struct bio *bio, int *error);
	void (*status)(struct dm_target *ti, unsigned int type, char *result,
		       unsigned int maxlen);
	int (*message)(struct dm_target *ti, unsigned int argc, char **argv,
		       char *result, unsigned int maxlen);
	int (*iterate_devices)(struct dm_target *ti, dm_glue_callout_fn fn,
			       void *data);
};

/*
 * Registration, from the Rust module's init and exit.  @name must live
 * until dm_glue_unregister(); @ops for as long as the module.
 */
int dm_glue_register(const char *name, const unsigned int *version,
		     const struct dm_glue_ops *ops,
		     struct dm_glue_type **result);
void dm_glue_unregister(struct dm_glue_type *type);

/* struct dm_target */
sector_t dm_glue_ti_begin(struct dm_target *ti);
sector_t dm_glue_ti_len(struct dm_target *ti);
void *dm_glue_ti_private(struct dm_target *ti);
void dm_glue_ti_set_private(struct dm_target *ti, void *private);
void dm_glue_ti_set_error(struct dm_target *ti, const char *error);
void dm_glue_ti_set_num_bios(struct dm_target *ti, unsigned int flush,
			     unsigned int discard, unsigned int secure_erase,
			     unsigned int write_zeroes);
int dm_glue_ti_set_max_io_len(struct dm_target *ti, sector_t len);

/* struct dm_dev */
int dm_glue_get_device(struct dm_target *ti, const char *path,
		       struct dm_dev **result);
void dm_glue_put_device(struct dm_target *ti, struct dm_dev *dev);
const char *dm_glue_dev_name(struct dm_dev *dev);

/* struct bio: what it asks for */
unsigned int dm_glue_bio_op(struct bio *bio);
bool dm_glue_bio_is_write(struct bio *bio);
bool dm_glue_bio_is_preflush(struct bio *bio);
bool dm_glue_bio_is_fua(struct bio *bio);
sector_t dm_glue_bio_sector(struct bio *bio);
unsigned int dm_glue_bio_size(struct bio *bio);
unsigned int dm_glue_bio_target_bio_nr(struct bio *bio);

/* struct bio: what the target does with it */
void dm_glue_bio_set_dev(struct bio *bio, struct dm_dev *dev);
void dm_glue_bio_set_sector(struct bio *bio, sector_t sector);
void dm_glue_bio_accept_partial(struct bio *bio, unsigned int sectors);
void dm_glue_bio_zero_fill(struct bio *bio);
void dm_glue_bio_complete(struct bio *bio, int error);
int dm_glue_bio_clone_to(struct bio *bio, struct bio_set *bs,
			 struct dm_dev *dev, sector_t sector);

/* Clones come from a bio_set the target owns. */
struct bio_set *dm_glue_bioset_create(unsigned int pool_size);
void dm_glue_bioset_destroy(struct bio_set *bs);

/* Output */
unsigned int dm_glue_emit(char *result, unsigned int maxlen,
			  unsigned int offset, const char *text,
			  unsigned int len);
bool dm_glue_ratelimit(void);
void dm_glue_warn_args(const char *prefix, unsigned int argc, char **argv);
int dm_glue_call_callout(dm_glue_callout_fn fn, struct dm_target *ti,
			 struct dm_dev *dev, sector_t start, sector_t len,
			 void *data);

#endif /* DM_GLUE_H */
