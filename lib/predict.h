/*
 * predict.h - a model's forecasts of a panel's series as the rows of the
 * forecast stream (shd-predict).
 *
 * The stream (shd_predict_schema): time, resource, origin, step, then per
 * metric M of the model M.pred, M.lo, M.hi (the interval at the model's
 * coverage), M.conf, M.cur (the value at the origin) and M (the value
 * that came at time, where known); H rows per origin, steps 1..H.
 *
 * A predictor takes forecasts to make one at a time (series, model
 * resource, origin), queues them, and runs a full batch through the
 * network in one forward pass (a batch shares one network: per-resource
 * models flush on a change of resource); the other methods (the AR base,
 * last value, seasonal naive) are per origin. A series that never went
 * below zero (usage, bytes) is not forecast below it.
 */
#ifndef SHD_PREDICT_H
#define SHD_PREDICT_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "panel.h"
#include "shd.h"

/* Forecasts through the network per forward pass, at most. */
#define SHD_PREDICT_BATCH 256

/*
 * The method metric M of model resource R forecasts with: METHOD
 * (SHD_M_*) when >= 0, else the model's choice. A resource without a
 * network (fitted for a per-resource model by shd_train_extend) has its
 * lstm as its autoregression.
 */
int shd_predict_method(const struct shd_model *mdl, int method, size_t r,
		       size_t m);

/*
 * The forecast stream's schema into SC (initialised): the columns above,
 * and the metadata producer, model (MODEL, its name), model_fingerprint,
 * coverage, horizon, interval_ms, method (when METHOD >= 0) and source
 * (INPUT). 0 or SHD_ENOMEM.
 */
int shd_predict_schema(struct shd_schema *sc, const struct shd_model *mdl,
		       int method, const char *model, const char *input);

struct shd_predictor;

/*
 * A predictor of MDL's forecasts of P's series by METHOD (as in
 * shd_predict_method), writing rows of schema SC (shd_predict_schema's)
 * to W. MDL, P and W are borrowed. 0 or SHD_ENOMEM.
 */
int shd_predictor_new(struct shd_predictor **pr, const struct shd_model *mdl,
		      const struct shd_panel *p, int method,
		      const struct shd_schema *sc, struct shd_writer *w);
void shd_predictor_free(struct shd_predictor *pr);

/*
 * Queues the forecast of P's series K (model resource R) from origin T
 * (an index of the series); a full batch is forecast and written first.
 * 0, or an shd_err with the reason in ERR (N bytes).
 */
int shd_predictor_push(struct shd_predictor *pr, size_t k, size_t r,
		       size_t t, char *err, size_t n);

/* Forecasts and writes what is queued. As shd_predictor_push. */
int shd_predictor_flush(struct shd_predictor *pr, char *err, size_t n);

/* The forecasts made so far (origins, not rows). */
uint64_t shd_predictor_count(const struct shd_predictor *pr);

#endif
