/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The contract between basic_target_glue.c (C) and the Rust half of the
 * basic_target module (basic_target_main.rs, dm.rs).
 *
 * Rust cannot see <linux/device-mapper.h>: the kernel's Rust bindings do
 * not include it, so struct dm_target and struct dm_dev are unknown there,
 * and macros such as bio_op(), bio_set_dev() and DMEMIT() do not exist at
 * all.  The C glue therefore owns struct target_type and offers one small
 * function per thing Rust needs to read or do; Rust declares the same
 * functions in dm.rs (keep both lists in step) and makes every decision.
 *
 * Direction C -> Rust: basic_target_rs_*(), called from the target_type
 * callbacks.  Direction Rust -> C: basic_target_glue_*().
 */
#ifndef BASIC_TARGET_GLUE_H
#define BASIC_TARGET_GLUE_H

#include <linux/types.h>

struct bio;
struct dm_dev;
struct dm_target;

/*
 * Rust's map() returns one of these; basic_target_glue.c checks at build
 * time that they equal DM_MAPIO_SUBMITTED, DM_MAPIO_REMAPPED, DM_MAPIO_KILL.
 */
#define BASIC_TARGET_MAPIO_SUBMITTED	0
#define BASIC_TARGET_MAPIO_REMAPPED	1
#define BASIC_TARGET_MAPIO_KILL		4

/*
 * Status kinds passed to basic_target_rs_status(); checked against
 * STATUSTYPE_INFO, STATUSTYPE_TABLE, STATUSTYPE_IMA.
 */
#define BASIC_TARGET_STATUS_INFO	0
#define BASIC_TARGET_STATUS_TABLE	1
#define BASIC_TARGET_STATUS_IMA		2

/* Same shape as iterate_devices_callout_fn in <linux/device-mapper.h>. */
typedef int (*basic_target_callout_fn)(struct dm_target *ti,
				       struct dm_dev *dev, sector_t start,
				       sector_t len, void *data);

/* Implemented in Rust (dm.rs), called by the target_type callbacks. */
int basic_target_rs_ctr(struct dm_target *ti, unsigned int argc, char **argv);
void basic_target_rs_dtr(struct dm_target *ti);
int basic_target_rs_map(struct dm_target *ti, struct bio *bio);
void basic_target_rs_status(struct dm_target *ti, unsigned int type,
			    char *result, unsigned int maxlen);
int basic_target_rs_message(struct dm_target *ti, unsigned int argc,
			    char **argv);
int basic_target_rs_iterate_devices(struct dm_target *ti,
				    basic_target_callout_fn fn, void *data);

/* Registration, called from the Rust module's init and exit. */
int basic_target_glue_register(void);
void basic_target_glue_unregister(void);

/* struct dm_target */
sector_t basic_target_glue_ti_begin(struct dm_target *ti);
sector_t basic_target_glue_ti_len(struct dm_target *ti);
void *basic_target_glue_ti_private(struct dm_target *ti);
void basic_target_glue_ti_set_private(struct dm_target *ti, void *private);
void basic_target_glue_ti_set_error(struct dm_target *ti, const char *error);
void basic_target_glue_ti_set_num_bios(struct dm_target *ti,
				       unsigned int flush,
				       unsigned int discard,
				       unsigned int secure_erase,
				       unsigned int write_zeroes);

/* struct dm_dev */
int basic_target_glue_get_device(struct dm_target *ti, const char *path,
				 struct dm_dev **result);
void basic_target_glue_put_device(struct dm_target *ti, struct dm_dev *dev);
const char *basic_target_glue_dev_name(struct dm_dev *dev);

/* struct bio */
unsigned int basic_target_glue_bio_op(struct bio *bio);
bool basic_target_glue_bio_is_preflush(struct bio *bio);
sector_t basic_target_glue_bio_sector(struct bio *bio);
unsigned int basic_target_glue_bio_size(struct bio *bio);
void basic_target_glue_bio_set_dev(struct bio *bio, struct dm_dev *dev);
void basic_target_glue_bio_set_sector(struct bio *bio, sector_t sector);

/* Output */
void basic_target_glue_emit(char *result, unsigned int maxlen,
			    unsigned int *offset, const char *text,
			    unsigned int len);
void basic_target_glue_log_bio(const char *op, sector_t sector,
			       unsigned int size);
int basic_target_glue_call_callout(basic_target_callout_fn fn,
				   struct dm_target *ti, struct dm_dev *dev,
				   sector_t start, sector_t len, void *data);

#endif /* BASIC_TARGET_GLUE_H */
