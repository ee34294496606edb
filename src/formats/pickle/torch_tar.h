/*
 * torch_tar.h - the pre-1.0 PyTorch checkpoint: a tar whose members
 * "storages" and "tensors" interleave pickles with raw data. The tar itself
 * is read by src/formats/archive/; these functions walk those two members.
 */
#ifndef MS_TORCH_TAR_H
#define MS_TORCH_TAR_H

#include "../../core/scan_ctx.h"

/* The members torch.load reads by name: a tar holding all three as regular
 * files is read as this layout. */
#define TORCH_TAR_PICKLE 1u
#define TORCH_TAR_TENSORS 2u
#define TORCH_TAR_STORAGES 4u
#define TORCH_TAR_LAYOUT (TORCH_TAR_PICKLE | TORCH_TAR_TENSORS | TORCH_TAR_STORAGES)

/* The TORCH_TAR_* bit of a member name (exact, as Python's tarfile looks
 * names up), 0 for any other name. */
unsigned torch_tar_member_bit(const char *name);

/* The analyser of member `name` of such a tar: the structural walk of
 * "storages" or "tensors", NULL for members analysed by their content
 * ("sys_info", "pickle" and any other). */
ms_scan_fn torch_tar_member_scan(const char *name);

/* Walk one member at ctx->location: every pickle in it is analysed, raw
 * bytes are skipped by the counts before them, and whatever does not fit
 * the layout is reported. MS_NOMEM when memory ran out, else MS_OK. */
ms_status torch_tar_scan_storages(ms_scan_ctx *ctx, const uint8_t *data, size_t len);
ms_status torch_tar_scan_tensors(ms_scan_ctx *ctx, const uint8_t *data, size_t len);

#endif
