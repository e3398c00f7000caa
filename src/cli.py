"""The ``cvm`` command line (a contract: see docs and ../shared/design.md)."""

from __future__ import annotations

import errno
import functools
import logging
import os
import sys
import traceback
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer

from cvm.config import CvmError, in_home, setup_logging

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="cvm: customer value management for car dealers.",
    pretty_exceptions_enable=False,
)
log = logging.getLogger("cvm")


def _fail(err: Exception, code: int = 2) -> None:
    typer.echo(f"error: {err}", err=True)
    raise typer.Exit(code)


_OS_FIXES = {
    errno.ENOSPC: ("no space left on the device", "free space there or choose another --out"),
    errno.EDQUOT: ("disk quota exceeded", "free space there or choose another --out"),
    errno.EROFS: ("the file system is read-only", "choose a writable --out"),
    errno.EACCES: ("permission denied", "choose a writable --out or fix the permissions"),
    errno.EPERM: ("operation not permitted", "choose a writable --out or fix the permissions"),
    errno.ENOTDIR: ("a path component is a file, not a folder", "give a folder path"),
    errno.EISDIR: ("it is a folder, not a file", "give a file path"),
    errno.EEXIST: ("it already exists", "remove it or choose another path"),
    errno.ENOENT: ("no such file or folder", "check the path"),
}


def os_error_message(err: OSError) -> str:
    """An OSError as one line naming the path and the fix (full disk, read-only, …)."""
    what, fix = _OS_FIXES.get(
        err.errno or 0, (err.strerror or type(err).__name__, "check the path and the disk")
    )
    path = err.filename if err.filename is not None else "(unknown path)"
    if err.filename2:
        path = f"{path} -> {err.filename2}"
    return f"cannot write {path}: {what}; {fix}"


def error_log_path() -> Path:
    """Where tracebacks of internal errors go (``CVM_ERROR_LOG``, else configs/default.yaml)."""
    from cvm.config import CONFIG_DIR, load_config, read_yaml

    env = os.environ.get("CVM_ERROR_LOG")
    if env:
        return Path(env).expanduser()
    try:
        return Path(load_config()["logs"]["error_log"]).expanduser()
    except CvmError:  # a broken user config: the packaged default
        return Path(read_yaml(Path(CONFIG_DIR) / "default.yaml")["logs"]["error_log"]).expanduser()


def _internal_error(err: BaseException) -> None:
    """One line on stderr naming the log that holds the traceback; exit code 1."""
    log_path = getattr(err, "cvm_log", None)
    text = traceback.format_exc()
    try:
        if log_path is None or not Path(log_path).exists():
            log_path = error_log_path()
            Path(log_path).parent.mkdir(parents=True, exist_ok=True)
            with open(log_path, "a", encoding="utf-8") as fh:
                fh.write(
                    f"--- {datetime.now(UTC).isoformat(timespec='seconds')} "
                    f"cvm {' '.join(sys.argv[1:])}\n{text}"
                )
        where = f"the traceback is in {log_path}"
    except OSError:
        where = "the traceback could not be written to a log (run with -v to see it)"
        log.debug("%s", text)
    typer.echo(
        f"internal error: {type(err).__name__}: {str(err)[:200]} ({where}); please report it",
        err=True,
    )
    raise typer.Exit(1)


def _guard(fn):
    """Run a command: user errors exit 2 with their message, internal errors exit 1 with one
    line naming the log; never a traceback on the terminal."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, KeyboardInterrupt, SystemExit):
            raise
        except CvmError as err:
            _fail(err, err.exit_code)
        except OSError as err:
            _fail(CvmError(os_error_message(err)), 2)
        except Exception as err:  # noqa: BLE001 - anything else is a bug: logged, exit 1
            _internal_error(err)

    return wrapper


def _parse_date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(ValueError(f"{flag} {value!r} is not a date; write it as YYYY-MM-DD"))
    return None


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    home: Path | None = typer.Option(
        None,
        "--home",
        envvar="CVM_HOME",
        help="Folder holding data/, reports/, models/ and an optional configs/ overlay "
        "(default: the working directory).",
    ),
) -> None:
    setup_logging(verbose)
    if home is not None:
        if not home.expanduser().is_dir():
            _fail(
                CvmError(
                    f"--home {home}: no such folder; create it or point --home (or "
                    f"CVM_HOME) at an existing one"
                )
            )
        # relative paths of every command resolve there, and the notebooks' kernels inherit it
        os.environ["CVM_HOME"] = str(home.expanduser().resolve())
        os.chdir(os.environ["CVM_HOME"])


def _sim_default(key: str) -> Any:
    """A ``cvm simulate`` default from configs/simulator.yaml."""
    from cvm.config import load_config

    return load_config("simulator")[key]


@app.command()
@_guard
def simulate(
    customers: int | None = typer.Option(
        None, help="Number of customers [default: simulator.yaml customers]."
    ),
    seed: int | None = typer.Option(
        None, help="Random seed; same seed, same files [default: default.yaml seed]."
    ),
    out: Path = typer.Option(..., help="Output directory."),
    end: str | None = typer.Option(None, help="Last day of the data, YYYY-MM-DD."),
    years: float | None = typer.Option(
        None, help="Years of history [default: simulator.yaml years]."
    ),
    dealers: int | None = typer.Option(
        None, help="Number of stores [default: simulator.yaml dealers]."
    ),
    horizon_months: int | None = typer.Option(
        None,
        help="Months simulated past --end into truth/ [default: simulator.yaml horizon_months].",
    ),
    format: str = typer.Option("parquet", help="parquet or csv."),
    force: bool = typer.Option(False, help="Overwrite a non-empty output directory."),
    regime: str = typer.Option(
        "standard",
        help="World shape(s), comma-separated: standard, "
        "closed-cohort, visits-only, short-history, gradual-warranty, "
        "confounded, opaque (docs/simulator.md).",
    ),
) -> None:
    """Write a realistic dealer data set to OUT and its ground truth to OUT/truth/."""
    from cvm.config import load_config
    from cvm.data.simulator import simulate as run

    run(
        n_customers=_sim_default("customers") if customers is None else customers,
        seed=int(load_config()["seed"]) if seed is None else seed,
        out=in_home(out),
        end=_parse_date(end, "--end"),
        years=_sim_default("years") if years is None else years,
        dealers=_sim_default("dealers") if dealers is None else dealers,
        horizon_months=_sim_default("horizon_months") if horizon_months is None else horizon_months,
        fmt=format,
        force=force,
        regimes=regime,
    )


@app.command()
@_guard
def validate(
    # str, not Path: Path("sqlite:///x.db") would collapse the URL's slashes
    data: str = typer.Option(..., help="Data directory (CSV, Parquet, Excel) or a SQLAlchemy URL."),
    as_of: str | None = typer.Option(
        None, help="Dates after this are 'in the future' (default today)."
    ),
) -> None:
    """Check DATA against the data contract: exit 0, or exit 2 with every problem listed."""
    from cvm.data.validate import validate_source

    report = validate_source(str(data), as_of=_parse_date(as_of, "--as-of"))
    typer.echo(report.render())
    raise typer.Exit(0 if report.ok else 2)


@app.command()
@_guard
def monthly(
    # str, not Path: Path("sqlite:///x.db") would collapse the URL's slashes
    data: str = typer.Option(..., help="Data directory or SQLAlchemy URL."),
    as_of: str = typer.Option(..., help="As-of date YYYY-MM-DD (usually a month end)."),
    out: Path = typer.Option(Path("reports"), help="Reports root; the run goes to OUT/YYYY-MM/."),
    budget: float | None = typer.Option(None, help="Campaign budget, CNY."),
    horizon_months: int | None = typer.Option(None, help="Horizon H in months."),
    lang: str = typer.Option("zh", help="Report language: zh or en."),
    force: bool = typer.Option(False, help="Replace an already published month."),
    profile: str = typer.Option(
        "default",
        help="Settings profile: configs/<profile>.yaml "
        "over configs/default.yaml (e.g. demo: faster training).",
    ),
    engine: str = typer.Option(
        "local",
        help="Where the per-store work runs: local (this "
        "process) or dask (a LocalCluster, or --scheduler).",
    ),
    scheduler: str | None = typer.Option(
        None, help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --engine dask)."
    ),
) -> None:
    """The whole monthly job: validate, features, models, segments, campaigns, report."""
    from cvm.pipeline import run_monthly

    path = run_monthly(
        data=str(data),
        as_of=_parse_date(as_of, "--as-of"),
        out=out,
        budget=budget,
        horizon_months=horizon_months,
        lang=lang,
        force=force,
        profile=profile,
        engine=engine,
        scheduler=scheduler,
    )
    typer.echo(str(path))


@app.command()
@_guard
def train(
    data: str = typer.Option(..., help="Data directory or SQLAlchemy URL."),
    as_of: str = typer.Option(..., help="As-of date YYYY-MM-DD."),
    out: Path = typer.Option(Path("models"), help="Where model bundles go."),
    horizon_months: int | None = typer.Option(None, help="Horizon H in months."),
    profile: str = typer.Option(
        "default", help="Settings profile: configs/<profile>.yaml over configs/default.yaml."
    ),
) -> None:
    """Train the models and save their bundles only (signed when CVM_BUNDLE_KEY is set)."""
    from cvm.train import train_bundles

    paths = train_bundles(
        data, _parse_date(as_of, "--as-of"), out, horizon_months=horizon_months, profile=profile
    )
    for path in paths.values():
        typer.echo(str(path))


@app.command()
@_guard
def score(
    models: Path = typer.Option(
        ..., help="Folder of model bundles (models/, models/<name> or one bundle)."
    ),
    data: str = typer.Option(..., help="Data directory or SQLAlchemy URL."),
    as_of: str = typer.Option(..., help="As-of date YYYY-MM-DD."),
    out: str = typer.Option(..., help="Output file (.parquet, .csv) or SQLAlchemy URL."),
    table: str = typer.Option("cvm_scores", help="Table name when --out is a database URL."),
    if_exists: str = typer.Option("replace", help="replace or append."),
) -> None:
    """Score customers with saved bundles; no training code needed."""
    from cvm.data.readers import is_url
    from cvm.data.writers import write_table
    from cvm.run_checks import check_output_file
    from cvm.scoring import score_source

    if not is_url(out):
        check_output_file(Path(out))
    scores = score_source(models, data, _parse_date(as_of, "--as-of"))
    where = write_table(scores, out, table=table, if_exists=if_exists)
    typer.echo(f"{len(scores)} customers scored -> {where}")


@app.command()
@_guard
def export(
    run: Path = typer.Option(..., help="A monthly run folder, reports/YYYY-MM."),
    out: str = typer.Option(..., help="SQLAlchemy URL, e.g. sqlite:///cvm.db."),
    if_exists: str = typer.Option("replace", help="replace or append."),
) -> None:
    """Write a run's scores and campaign lists to a SQL database (tables cvm_scores,
    cvm_campaigns), in one transaction."""
    from cvm.data.writers import export_run

    export_run(run, out, if_exists=if_exists)
    typer.echo(f"exported {run} -> {out.split('@')[-1]}")


@app.command()
@_guard
def evaluate(
    run: Path = typer.Option(..., help="A monthly run folder, reports/YYYY-MM."),
    truth: Path = typer.Option(..., help="The simulator's truth folder, DIR/truth."),
    max_oracle_paths: int = typer.Option(
        None,
        help="Cap of the pair oracle's Monte Carlo paths per campaign (default: "
        "configs/campaigns.yaml evaluation.pair_oracle.max_paths; 0 = off).",
    ),
) -> None:
    """On simulated data: compare a run with the ground truth; print the evaluation JSON."""
    from cvm.evaluate import evaluate_run

    if max_oracle_paths is not None and max_oracle_paths < 0:
        raise CvmError(f"--max-oracle-paths must be >= 0, got {max_oracle_paths}")
    typer.echo(evaluate_run(run, truth, max_oracle_paths))


@app.command()
@_guard
def demo(
    data: Path = typer.Option(Path("data/demo"), help="Where the demo data lives."),
    customers: int | None = typer.Option(
        None,
        help="Customers to simulate when the data is missing [default: simulator.yaml customers].",
    ),
    out: Path = typer.Option(Path("reports"), help="Reports root."),
    lang: str = typer.Option("zh", help="Report language."),
) -> None:
    """Simulate the demo data if it is missing, then run `cvm monthly` for its last month."""
    from cvm.pipeline import run_demo

    path = run_demo(
        data=data,
        customers=_sim_default("customers") if customers is None else customers,
        out=out,
        lang=lang,
    )
    typer.echo(f"report: {path}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
