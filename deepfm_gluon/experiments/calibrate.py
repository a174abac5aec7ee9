"""`train --calibrate`: fit a calibration on the validation split of a
saved model, store it with the model (calibration.json) and record what it
did, so that evaluate, predict, export and serve apply it."""
import json
import os

from ..atomic import atomic_write_json
from ..errors import DeepFMError
from ..serving.predictor import Predictor
from ..training.calibration import fit_calibration, save_calibration
from ..training.metrics import score


def calibrate_model_dir(model_dir, method, validation, test, log=print):
    """Fit ``method`` ('platt' or 'isotonic') on the saved model's logits of
    ``validation`` (.features, .labels), save calibration.json, and set
    meta.json's ``test_metrics`` to the calibrated model's scores on ``test``
    (the uncalibrated ones move to ``uncalibrated_test_metrics``). Returns
    the calibration.json dict."""
    if validation is None:
        raise DeepFMError(f"--calibrate {method}: needs a validation split (pass --validation SHARE)")
    raw = Predictor(model_dir, calibrated=False)
    calibrator = fit_calibration(method, raw.predict_logits(validation.features), validation.labels)
    before = {"validation": score(validation.labels, raw.predict_features(validation.features)),
              "test": score(test.labels, raw.predict_features(test.features))}
    after = {name: score(part.labels, calibrator.apply(raw.predict_logits(part.features)))
             for name, part in (("validation", validation), ("test", test))}
    record = {"fitted_on": f"{len(validation.labels)} validation lines", "before": before, "after": after}
    save_calibration(model_dir, calibrator, record)
    meta_path = os.path.join(model_dir, "meta.json")
    with open(meta_path) as f:
        meta = json.load(f)
    meta.update(uncalibrated_test_metrics=before["test"], test_metrics=after["test"], calibration=method)
    atomic_write_json(meta_path, meta)
    if log:
        log(f"calibration ({method}) fitted on {record['fitted_on']}: validation ECE "
            f"{before['validation']['ece']:.4f} -> {after['validation']['ece']:.4f}; test ECE "
            f"{before['test']['ece']:.4f} -> {after['test']['ece']:.4f}, test AUC {before['test']['auc']:.4f} -> "
            f"{after['test']['auc']:.4f}; saved {os.path.join(model_dir, 'calibration.json')}")
    return calibrator.to_dict(record)
