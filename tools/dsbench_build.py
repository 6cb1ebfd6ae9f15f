#!/usr/bin/python3
"""Builds Kaggle-style data-science tasks for pipelines/dsbench.yaml from datasets that Debian's
python3-sklearn and python3-statsmodels ship offline (no downloads).

Writes OUT/tasks/<task_id>/{train.csv,test.csv,sample_submission.csv,answers.csv,description.md},
OUT/train.jsonl, OUT/eval.jsonl (one row per task; eval gets about a third of each task type) and
OUT/manifest.json (the seed and the sha256 of every answers file and split file; a run refuses a task
set that does not match it). Row paths are relative to the row's .jsonl file, so a build in any folder
is graded against its own answers. Each row carries the task's constant baseline (majority class, base
rate or mean/median of train) and its score on the test answers, computed here.
Columns get names other than the source's and numeric features a seeded affine map plus noise, so that
neither a join by name nor one by value (rounded to the source's decimals) finds a source row; tasks that
share a source split its rows. Deterministic given --seed: the same bytes on every run.

    /usr/bin/python3 tools/dsbench_build.py [--out DIR] [--seed N] [--baseline]

--baseline also fits a simple scikit-learn model on each eval task and prints JSON scores to stdout.
"""
import argparse
import hashlib
import json
import os
import shutil
import tempfile
import sys
import warnings
import zlib
from pathlib import Path

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "pipelines" / "data" / "dsbench"
FLOAT = "%.10g"
ID = "id"

BINARY, MULTI, REGRESSION = "binary_classification", "multiclass_classification", "regression"


def _sk():
    import sklearn.datasets as d
    return d


def _sm():
    import statsmodels.api as sm
    return sm.datasets


def _frame(bunch, target_name):
    df = pd.DataFrame(bunch.data, columns=[str(c).replace(" ", "_") for c in bunch.feature_names])
    df[target_name] = bunch.target
    return df


# Each loader returns (frame with the target column, spec dict).
def _nucleus_name(col):
    for prefix, suffix in (("mean_", "_avg"), ("worst_", "_max")):
        if col.startswith(prefix):
            return col[len(prefix):] + suffix
    return col.replace("_error", "_se")


NUCLEUS_NAMES = {f"{p}{m}{s}": _nucleus_name(f"{p}{m}{s}") for m in (
    "radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity", "concave_points",
    "symmetry", "fractal_dimension") for p, s in (("mean_", ""), ("", "_error"), ("worst_", ""))}


def breast_cancer():
    df = _frame(_sk().load_breast_cancer(), "malignant")
    df["malignant"] = 1 - df["malignant"]  # sklearn codes malignant as 0; the positive class is 1 here
    return df, dict(type=BINARY, target="malignant", metric="roc_auc", missing=0.03, rename=NUCLEUS_NAMES,
                    source="Wisconsin diagnostic breast cancer",
                    goal="Predict whether a breast mass is malignant (1) or benign (0) from cell-nucleus measurements.",
                    predict="the probability that the mass is malignant (a number in [0, 1]; 0/1 labels also score)")


WINE_NAMES = {"alcohol": "alcohol_level", "malic_acid": "malic", "ash": "ash_content",
              "alcalinity_of_ash": "ash_alkalinity", "magnesium": "magnesium_level", "total_phenols": "phenols_total",
              "flavanoids": "flavonoids", "nonflavanoid_phenols": "nonflavonoid_phenols",
              "proanthocyanins": "proanthocyanidins", "color_intensity": "colour_intensity", "hue": "hue_index",
              "od280/od315_of_diluted_wines": "od_ratio", "proline": "proline_level"}


def wine_cultivar():
    df = _frame(_sk().load_wine(), "cultivar")
    df["cultivar"] = df["cultivar"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    return df, dict(type=MULTI, target="cultivar", metric="accuracy", missing=0.04, rename=WINE_NAMES,
                    source="UCI wine recognition",
                    goal="Predict the cultivar of an Italian wine from its chemical analysis.",
                    predict="the cultivar name: barolo, grignolino or barbera")


def iris_species():
    b = _sk().load_iris()
    df = pd.DataFrame(b.data, columns=["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"])
    df["species"] = pd.Series(b.target).map({0: "setosa", 1: "versicolor", 2: "virginica"})
    return df, dict(type=MULTI, target="species", metric="f1_macro", missing=0.0,
                    rename={"sepal_length_cm": "sepal_len", "sepal_width_cm": "sepal_wid",
                            "petal_length_cm": "petal_len", "petal_width_cm": "petal_wid"},
                    source="Fisher's iris",
                    goal="Predict the species of an iris flower from its sepal and petal measurements.",
                    predict="the species name: setosa, versicolor or virginica")


DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _digits():
    """The 8x8 handwritten digits: a frame of their pixel intensities, and each image's digit."""
    b = _sk().load_digits()
    return pd.DataFrame(b.data.astype(int), columns=[f"px_{i // 8}_{i % 8}" for i in range(64)]), b.target


def digits_name():
    df, digit = _digits()
    df["digit"] = pd.Series(digit).map(dict(enumerate(DIGIT_NAMES)))
    return df, dict(type=MULTI, target="digit", metric="accuracy", missing=0.0, shared_scale=True,
                    source="UCI optical handwritten digits, 8x8",
                    goal="Name the handwritten digit from its 8x8 grid of pixel intensities.",
                    predict="the digit's name in lower case: zero, one, ..., nine")


def digits_rare_seven():
    df, digit = _digits()
    df["is_seven"] = (digit == 7).astype(int)
    return df, dict(type=BINARY, target="is_seven", metric="f1", missing=0.0, imbalanced=True, shared_scale=True,
                    source="UCI optical handwritten digits, 8x8",
                    goal="Detect the handwritten sevens (about 10% of the images; imbalanced) from 8x8 pixel intensities.",
                    predict="1 if the digit is a seven, else 0 (F1 of the positive class 1)")


def diabetes_progression():
    b = _sk().load_diabetes(scaled=False)
    df = pd.DataFrame(b.data, columns=list(b.feature_names))
    df["sex"] = df["sex"].map({1.0: "female", 2.0: "male"})
    df["progression"] = b.target
    return df, dict(type=REGRESSION, target="progression", metric="rmse", missing=0.03,
                    rename={"age": "patient_age", "sex": "patient_sex", "bmi": "body_mass_index",
                            "bp": "blood_pressure", "s1": "serum_tc", "s2": "serum_ldl", "s3": "serum_hdl",
                            "s4": "serum_tch", "s5": "serum_ltg", "s6": "serum_glucose"},
                    source="Efron et al. diabetes",
                    goal="Predict a quantitative measure of diabetes progression one year after baseline.",
                    predict="the progression score (a number)")


OCCUPATIONS = {1: "student", 2: "farming_unskilled", 3: "white_collar", 4: "teacher_nurse_artist",
               5: "managerial", 6: "professional"}
RELIGIOUS = {1: "not", 2: "mildly", 3: "fairly", 4: "strongly"}
MARRIAGE = {1: "very_poor", 2: "poor", 3: "fair", 4: "good", 5: "very_good"}


def fair_affair():
    df = _sm().fair.load_pandas().data.copy()
    df["had_affair"] = np.where(df.pop("affairs") > 0, "yes", "no")
    df["occupation"] = df["occupation"].astype(int).map(OCCUPATIONS)
    df["occupation_husb"] = df["occupation_husb"].astype(int).map(OCCUPATIONS)
    df["religious"] = df["religious"].astype(int).map(RELIGIOUS)
    df["rate_marriage"] = df["rate_marriage"].astype(int).map(MARRIAGE)
    return df, dict(type=BINARY, target="had_affair", metric="accuracy", missing=0.03,
                    rename={"rate_marriage": "marriage_rating", "age": "wife_age", "yrs_married": "years_married",
                            "children": "num_children", "religious": "religiousness", "educ": "wife_education",
                            "occupation": "wife_occupation", "occupation_husb": "husband_occupation"},
                    source="Fair (1978) Redbook survey of women",
                    goal="Predict whether a married woman reported any extramarital affair.",
                    predict='"yes" or "no"')


PARTY = {0: "strong_democrat", 1: "weak_democrat", 2: "independent_democrat", 3: "independent",
         4: "independent_republican", 5: "weak_republican", 6: "strong_republican"}
EDUC = {1: "grades_1_8", 2: "some_high_school", 3: "high_school", 4: "some_college", 5: "college_degree",
        6: "masters", 7: "phd"}


def _anes():
    df = _sm().anes96.load_pandas().data.copy()
    df["educ"] = df["educ"].astype(int).map(EDUC)
    return df.drop(columns=["logpopul"])


ANES_NAMES = {"popul": "town_population", "TVnews": "tv_news_days", "selfLR": "self_placement",
              "ClinLR": "clinton_placement", "DoleLR": "dole_placement", "PID": "party_id", "age": "respondent_age",
              "educ": "education", "income": "income_level"}


def anes96_vote():
    df = _anes()
    df["PID"] = df["PID"].astype(int).map(PARTY)
    df["vote"] = df["vote"].astype(int).map({0: "clinton", 1: "dole"})
    return df, dict(type=BINARY, target="vote", metric="accuracy", missing=0.03, rename=ANES_NAMES,
                    source="1996 American National Election Study",
                    goal="Predict a respondent's 1996 presidential vote from party identification, ideology and demographics.",
                    predict='"clinton" or "dole"')


def anes96_party():
    df = _anes()
    pid = df.pop("PID").astype(int)
    df = df.drop(columns=["vote"])  # anes96_vote's target: never a feature of another task
    df["party"] = np.select([pid <= 1, pid >= 5], ["democrat", "republican"], "independent")
    return df, dict(type=MULTI, target="party", metric="accuracy", missing=0.03, rename=ANES_NAMES,
                    source="1996 American National Election Study",
                    goal="Predict a respondent's party identification from ideology placements and demographics.",
                    predict="democrat, independent or republican")


MODES = {1: "air", 2: "train", 3: "bus", 4: "car"}


def modechoice_mode():
    long = _sm().modechoice.load_pandas().data.copy()
    long["mode"] = long["mode"].astype(int).map(MODES)
    # No terminal waiting times (ttme): they give the choice away (a depth-3 tree reached 0.83 accuracy
    # with them, 0.42 without; a random forest 0.95 and 0.75 against a majority class of 0.30).
    wide = long.pivot(index="individual", columns="mode", values=["invc", "invt", "gc"])
    wide.columns = [f"{m}_{v}" for v, m in wide.columns]
    wide = wide[sorted(wide.columns)]
    first = long.groupby("individual")[["hinc", "psize"]].first()
    chosen = long[long["choice"] == 1].set_index("individual")["mode"].rename("mode")
    df = pd.concat([wide, first, chosen], axis=1).reset_index(drop=True)
    names = {f"{m}_{v}": f"{m}_{w}" for m in MODES.values()
             for v, w in (("invc", "cost"), ("invt", "time"), ("gc", "generalised_cost"))}
    names.update(hinc="household_income", psize="party_size")
    return df, dict(type=MULTI, target="mode", metric="accuracy", missing=0.0, rename=names,
                    source="Greene's Sydney-Melbourne travel mode choice",
                    goal="Predict the travel mode a traveller chose from each mode's in-vehicle time, cost and generalised cost, household income and party size.",
                    predict="air, train, bus or car")


def county_cancer_cases():
    # Replaces the RAND HIE doctor visits, which a random forest barely beat the mean on (RMSLE 0.896 vs
    # 0.913); here the counts scale with the population at risk, a count model's exposure.
    df = _sm().cancer.load_pandas().data.copy().rename(columns={"cancer": "cases"})[["population", "cases"]]
    return df, dict(type=REGRESSION, target="cases", metric="rmsle", missing=0.0,
                    rename={"population": "residents"},
                    source="Rice's breast cancer counts in 301 counties",
                    goal="Predict the number of breast cancer cases recorded in a county from its population.",
                    predict="the number of cases (a non-negative number; scored with RMSLE)")


def star98_pass_rate():
    df = _sm().star98.load_pandas().data.copy()
    above, below = df.pop("NABOVE"), df.pop("NBELOW")
    df = df[[c for c in df.columns if c.count("_") == 0]]  # drop the interaction terms
    df["pass_rate"] = above / (above + below)
    return df, dict(type=REGRESSION, target="pass_rate", metric="mae", missing=0.03,
                    rename={"LOWINC": "pct_low_income", "PERASIAN": "pct_asian", "PERBLACK": "pct_black",
                            "PERHISP": "pct_hispanic", "PERMINTE": "pct_minority_teachers",
                            "AVYRSEXP": "teacher_experience", "AVSALK": "teacher_salary",
                            "PERSPENK": "spending_per_pupil", "PTRATIO": "pupil_teacher_ratio",
                            "PCTAF": "pct_college_prep", "PCTCHRT": "pct_charter", "PCTYRRND": "pct_year_round"},
                    source="California STAR 1998 math scores by school district",
                    goal="Predict the share of a district's students scoring above the national median in math.",
                    predict="the share, a number in [0, 1]")


def grunfeld_invest():
    df = _sm().grunfeld.load_pandas().data.copy()
    df["year"] = df["year"].astype(int)
    df = df[["firm", "year", "value", "capital", "invest"]]
    return df, dict(type=REGRESSION, target="invest", metric="rmse", missing=0.0, relabel=["firm"],
                    rename={"firm": "company", "year": "period", "value": "market_value", "capital": "capital_stock"},
                    source="Grunfeld investment panel, 11 US firms 1935-1954",
                    goal="Predict a firm's gross investment in a year from its market value and capital stock.",
                    predict="gross investment (a number, millions of 1947 dollars)")


def wine_alcohol():
    df, _ = wine_cultivar()
    df = df[[c for c in df.columns if c != "alcohol"] + ["alcohol"]]
    names = {k: v for k, v in WINE_NAMES.items() if k != "alcohol"}
    return df, dict(type=REGRESSION, target="alcohol", metric="rmse", missing=0.03, rename=names,
                    source="UCI wine recognition",
                    goal="Predict a wine's alcohol content from the rest of its chemical analysis and its cultivar.",
                    predict="the alcohol content in % by volume (a number)")


TASKS = {
    "breast_cancer": breast_cancer,
    "wine_cultivar": wine_cultivar,
    "iris_species": iris_species,
    "digits_name": digits_name,
    "digits_rare_seven": digits_rare_seven,
    "diabetes_progression": diabetes_progression,
    "fair_affair": fair_affair,
    "wine_alcohol": wine_alcohol,
    "anes96_vote": anes96_vote,
    "anes96_party": anes96_party,
    "modechoice_mode": modechoice_mode,
    "county_cancer_cases": county_cancer_cases,
    "star98_pass_rate": star98_pass_rate,
    "grunfeld_invest": grunfeld_invest,
}


# Tasks drawn from one source take disjoint halves of its rows, so no row is shared between tasks
# (of any split); the loaders of one family return the rows in the same order.
FAMILIES = {"wine_cultivar": ("wine", 0), "wine_alcohol": ("wine", 1), "digits_name": ("digits", 0),
            "digits_rare_seven": ("digits", 1), "anes96_vote": ("anes96", 0), "anes96_party": ("anes96", 1)}
NOISE = 0.03  # Gaussian noise on numeric features, as a fraction of each column's standard deviation


def own_rows(df, task_id, seed):
    if task_id not in FAMILIES:
        return df
    family, part = FAMILIES[task_id]
    order = rng_for(seed, "family:" + family).permutation(len(df))
    return df.iloc[np.sort(order[part::2])].reset_index(drop=True)


def perturb(df, spec, rng):
    """Moves every numeric feature with more than 2 distinct values by a seeded affine map (scale 0.5-2,
    shift up by 0.1-1 standard deviation; one map for all of them with shared_scale), then adds noise to
    those with more than 10 distinct values, so that no row of the source dataset (which the sandbox
    also hides) matches a task row on its values, exactly or after rounding."""
    df = df.copy()
    cols = [c for c in df.columns if c != spec["target"] and df[c].dtype != object and df[c].nunique() > 2]
    shared = None
    if spec.get("shared_scale") and cols:
        shared = (float(np.exp(rng.uniform(-0.7, 0.7))), float(rng.uniform(0.1, 1) * df[cols].stack().std()))
    for col in cols:
        x = df[col].astype(float)
        scale, shift = shared or (float(np.exp(rng.uniform(-0.7, 0.7))), float(rng.uniform(0.1, 1) * x.std()))
        x = scale * x + shift
        if df[col].nunique() > 10:
            x = x + rng.normal(0, NOISE * float(x.std()), len(df))
        df[col] = x
    return df


def relabel(df, spec, rng):
    """Renames columns (spec rename) and replaces the source's own category names (spec relabel) with
    neutral ones in a seeded order, so neither names nor labels key a join against the source."""
    df = df.copy()
    for col in spec.get("relabel", []):
        names = sorted(df[col].dropna().unique())
        order = rng.permutation(len(names))
        prefix = spec.get("rename", {}).get(col, col)
        df[col] = df[col].map({n: f"{prefix}_{chr(ord('a') + int(i))}" for n, i in zip(names, order)})
    return df.rename(columns=spec.get("rename", {}))


def rng_for(seed, name):
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def split(df, spec, rng, test_frac=0.25):
    """Shuffles, assigns ids 1..n and returns (train, test), stratified by class for classification."""
    n = len(df)
    df = df.iloc[rng.permutation(n)].reset_index(drop=True)
    df.insert(0, ID, np.arange(1, n + 1))
    test_mask = np.zeros(n, dtype=bool)
    groups = [np.arange(n)] if spec["type"] == REGRESSION else [
        np.flatnonzero((df[spec["target"]] == v).to_numpy()) for v in sorted(df[spec["target"]].unique())]
    for idx in groups:
        k = int(round(len(idx) * test_frac))
        test_mask[rng.permutation(idx)[:k]] = True
    return df[~test_mask].reset_index(drop=True), df[test_mask].reset_index(drop=True)


def inject_missing(frames, spec, rng):
    """Blanks a fraction of the cells of about half the feature columns (never id or target), the same
    columns in every frame."""
    frac = spec.get("missing", 0.0)
    if frac <= 0:
        return frames
    feats = [c for c in frames[0].columns if c not in (ID, spec["target"])]
    chosen = sorted(rng.choice(len(feats), size=max(1, len(feats) // 2), replace=False))
    return [_blank(df, [feats[i] for i in chosen], frac, rng) for df in frames]


def _blank(df, cols, frac, rng):
    df = df.copy()
    for col in cols:
        mask = rng.random(len(df)) < frac
        df[col] = df[col].astype(object) if df[col].dtype == object else df[col].astype(float)
        df.loc[mask, col] = np.nan
    return df


def to_csv(df, path):
    df.to_csv(path, index=False, float_format=FLOAT, lineterminator="\n")


def describe(task_id, spec, train, test, classes):
    t = spec["target"]
    feats = [c for c in train.columns if c not in (ID, t)]
    cats = [c for c in feats if train[c].dtype == object]
    missing = [c for c in feats if train[c].isna().any() or test[c].isna().any()]
    kind = {BINARY: "binary classification", MULTI: "multi-class classification", REGRESSION: "regression"}[spec["type"]]
    if spec.get("imbalanced"):
        kind += " (imbalanced)"
    lines = [
        f"# {task_id}",
        "",
        spec["goal"],
        "",
        f"- Task type: {kind}",
        f"- Source: adapted from {spec['source']} ({'a subset of its rows; ' if task_id in FAMILIES else ''}"
        "columns renamed; numeric features linearly rescaled and shifted, most with added noise)",
        f"- Files: train.csv ({len(train)} rows, with the target), test.csv ({len(test)} rows, without it), sample_submission.csv",
        f"- Id column: `{ID}`; target column: `{t}`",
        f"- Features ({len(feats)}): " + ", ".join(f"`{c}`" for c in feats),
        f"- Categorical features: " + (", ".join(f"`{c}`" for c in cats) if cats else "none"),
        f"- Features with missing values: " + (", ".join(f"`{c}`" for c in missing) if missing else "none"),
    ]
    if classes is not None:
        lines.append("- Classes: " + ", ".join(str(c) for c in classes))
    if spec["type"] == BINARY:
        pos, neg = classes[-1], classes[0]
        lines.append(f"- Positive class: `{pos}` (the class that sorts last). A numeric prediction is read as the "
                     f"probability of `{pos}` and thresholded at 0.5, so 1 means `{pos}` and 0 means `{neg}`.")
    lines += [
        "",
        "## Evaluation",
        "",
        f"Submissions are scored with **{spec['metric']}** on the hidden test labels.",
        "",
        "## Submission format",
        "",
        f"Write `submission.csv` with a header and exactly two columns, `{ID}` and `{t}`, one row per row of "
        f"test.csv (same ids), where `{t}` is {spec['predict']}. See sample_submission.csv.",
        "",
    ]
    return "\n".join(lines)


def build_task(task_id, loader, seed, root):
    df, spec = loader()
    rng = rng_for(seed, task_id)
    df = relabel(perturb(own_rows(df, task_id, seed), spec, rng), spec, rng)
    train, test = split(df, spec, rng)
    train, test = inject_missing([train, test], spec, rng)
    t = spec["target"]
    answers = test[[ID, t]]
    test = test.drop(columns=[t])
    classes = None if spec["type"] == REGRESSION else sorted(df[t].unique().tolist())
    default = constant_prediction(train[t], spec, classes)
    sample = pd.DataFrame({ID: test[ID], t: default})
    d = root / "tasks" / task_id
    d.mkdir(parents=True, exist_ok=True)
    to_csv(train, d / "train.csv")
    to_csv(test, d / "test.csv")
    to_csv(sample, d / "sample_submission.csv")
    to_csv(answers, d / "answers.csv")
    text = describe(task_id, spec, train, test, classes)
    (d / "description.md").write_text(text, encoding="utf-8")
    return {
        "task_id": task_id,
        "task_type": spec["type"],
        "description": text,
        "metric": spec["metric"],
        "target_column": t,
        "id_column": ID,
        "answers_file": f"tasks/{task_id}/answers.csv",
        "baseline_prediction": str(default),
        "baseline_score": round(float(score_constant(answers[t], default, spec, classes)), 10),
        "rows": {"train": len(train), "test": len(test)},
    }


def constant_prediction(y, spec, classes):
    """The baseline: train's majority class (ties: first in sort order), its positive rate for roc_auc
    and log_loss, its median for mae/medae, else its mean (rounded to 4 places)."""
    if spec["metric"] in ("roc_auc", "log_loss"):
        return float(np.round((y == classes[-1]).mean(), 4))
    if classes is not None:
        return y.mode().sort_values().iloc[0]
    if spec["metric"] in ("mae", "medae"):
        return float(np.round(y.median(), 4))
    return float(np.round(y.mean(), 4))


def score_constant(truth, default, spec, classes):
    """The task's metric of the constant prediction on the test answers (scikit-learn's definitions)."""
    from sklearn import metrics as M
    n = len(truth)
    metric = spec["metric"]
    if metric == "roc_auc":
        return 0.5
    if metric == "log_loss":
        return M.log_loss(truth == classes[-1], np.full(n, default), labels=[False, True])
    if classes is not None:
        pred = np.full(n, str(default))
        truth = truth.astype(str).to_numpy()
        return {"accuracy": M.accuracy_score,
                "f1": lambda a, b: M.f1_score(a, b, pos_label=str(classes[-1]), zero_division=0),
                "f1_macro": lambda a, b: M.f1_score(a, b, average="macro", zero_division=0)}[metric](truth, pred)
    pred = np.full(n, float(default))
    return {"rmse": lambda a, b: M.mean_squared_error(a, b) ** 0.5,
            "rmsle": lambda a, b: M.mean_squared_log_error(a, b) ** 0.5,
            "mae": M.mean_absolute_error, "medae": M.median_absolute_error}[metric](truth, pred)


def assign_splits(rows, seed):
    """Eval gets round(n/3) (at least 1) of each task type, chosen with the seed."""
    evals = set()
    for kind in sorted({r["task_type"] for r in rows}):
        ids = sorted(r["task_id"] for r in rows if r["task_type"] == kind)
        k = max(1, int(round(len(ids) / 3)))
        order = rng_for(seed, "split:" + kind).permutation(len(ids))
        evals.update(ids[i] for i in order[:k])
    return evals


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(out, seed):
    """Builds into a scratch folder beside OUT, then moves each file into place (one rename each), so a
    run reading OUT while it is rebuilt never finds a file missing; manifest.json is written last."""
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=out))
    try:
        rows, evals = _build(scratch, seed)
        files = [p for p in scratch.rglob("*") if p.is_file()]
        for f in sorted(files, key=lambda p: (p.name == "manifest.json", str(p))):
            dest = out / f.relative_to(scratch)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, dest)
        keep = {r["task_id"] for r in rows}
        for d in (out / "tasks").iterdir():
            if d.name not in keep:
                shutil.rmtree(d)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows, evals


def _build(out, seed):
    rows = [build_task(tid, loader, seed, out) for tid, loader in TASKS.items()]
    evals = assign_splits(rows, seed)
    for name, keep in (("train", lambda r: r["task_id"] not in evals), ("eval", lambda r: r["task_id"] in evals)):
        with open(out / f"{name}.jsonl", "w", encoding="utf-8", newline="\n") as f:
            for r in rows:
                if keep(r):
                    f.write(json.dumps(r, sort_keys=True) + "\n")
    files = ["train.jsonl", "eval.jsonl"] + sorted(r["answers_file"] for r in rows)
    manifest = {"builder": "tools/dsbench_build.py", "seed": seed,
                "files": {f: {"sha256": sha256(out / f)} for f in files}}
    (out / "manifest.json").write_text(json.dumps(manifest, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    return rows, evals


def baseline(out, task_ids):
    """Fits a random forest (demo-style preprocessing) per task and scores it with the task's metric."""
    from sklearn import metrics as M
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    rows = {}
    for line in (out / "train.jsonl").read_text().splitlines() + (out / "eval.jsonl").read_text().splitlines():
        r = json.loads(line)
        rows[r["task_id"]] = r
    scores = {}
    for tid in task_ids:
        r = rows[tid]
        d = out / "tasks" / tid
        train, test = pd.read_csv(d / "train.csv"), pd.read_csv(d / "test.csv")
        ans = pd.read_csv(d / "answers.csv")
        t, metric = r["target_column"], r["metric"]
        y = train[t]
        X = pd.get_dummies(train.drop(columns=[t, ID]), dummy_na=True)
        Xt = pd.get_dummies(test.drop(columns=[ID]), dummy_na=True).reindex(columns=X.columns, fill_value=0)
        med = X.median(numeric_only=True)
        X, Xt = X.fillna(med).fillna(0), Xt.fillna(med).fillna(0)
        truth = ans.set_index(ID).loc[test[ID], t].to_numpy()
        if r["task_type"] == REGRESSION:
            model = RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=1).fit(X, y)
            pred = model.predict(Xt)
            const = np.full(len(truth), float(y.mean()))
            f = {"rmse": lambda a, b: M.mean_squared_error(a, b) ** 0.5,
                 "rmsle": lambda a, b: M.mean_squared_log_error(a, np.maximum(b, 0)) ** 0.5,
                 "mae": M.mean_absolute_error, "medae": M.median_absolute_error}[metric]
            s, c = f(truth, pred), f(truth, const)
        else:
            model = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1).fit(X, y)
            major = y.mode().sort_values().iloc[0]
            if metric == "roc_auc":
                pos = list(model.classes_).index(sorted(model.classes_)[-1])
                s, c = M.roc_auc_score(truth, model.predict_proba(Xt)[:, pos]), 0.5
            else:
                pred = model.predict(Xt)
                const = np.full(len(truth), major)
                f = {"accuracy": M.accuracy_score,
                     "f1": lambda a, b: M.f1_score(a, b, pos_label=sorted(set(a))[-1], zero_division=0),
                     "f1_macro": lambda a, b: M.f1_score(a, b, average="macro", zero_division=0)}[metric]
                s, c = f(truth, pred), f(truth, const)
        scores[tid] = {"metric": metric, "task_type": r["task_type"], "score": round(float(s), 4),
                       "constant": round(float(c), 4)}
    return scores


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--baseline", action="store_true", help="print JSON scores of a random forest on eval tasks")
    a = p.parse_args(argv)
    rows, evals = build(a.out, a.seed)
    if a.baseline:
        print(json.dumps(baseline(a.out, sorted(evals)), sort_keys=True, indent=1))
    else:
        for r in rows:
            split_name = "eval" if r["task_id"] in evals else "train"
            print(f"{r['task_id']:<22} {r['task_type']:<26} {r['metric']:<9} "
                  f"train {r['rows']['train']:>5} test {r['rows']['test']:>5} {split_name}")
        print(f"{len(rows)} tasks ({len(evals)} eval) written to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
