"""The reference pipeline as its own CloudFormation stack: ``template.yaml`` next to this module
(the seed's four parameters ``RedshiftClusterIdentifier``, ``DatabaseUserName``,
``DatabaseName``, ``RedshiftIAMRoleARN``, plus where the SQL function's zip is), and that zip.

The template deploys unchanged to AWS (``aws cloudformation deploy``) and here
(``eltflow stack deploy``; ``eltflow demo --from-template`` does it all). Its loads are one Task
each, calling eltflow's bundled SQL function (:mod:`eltflow.lambdas.redshift_sql`) with the
pipeline's SQL files, so the function's package is that module plus ``sql/*.sql``.
"""

from __future__ import annotations

import io
import zipfile
from importlib import resources
from pathlib import Path

from eltflow.pipelines.reference import ReferenceConfig

TEMPLATE = "template.yaml"
STACK_NAME = "reference"
ARTIFACT_BUCKET = "eltflow-artifacts"
ARTIFACT_KEY = "reference-load.zip"
# What the local run passes for the parameters that name AWS things (any value works locally).
LOCAL_DB_USER = "awsuser"
LOCAL_REDSHIFT_ROLE = "arn:aws:iam::123456789012:role/eltflow-redshift-s3"


def template_path() -> Path:
    """The shipped template (a file of the installed package)."""
    return Path(str(resources.files(__package__ or __name__).joinpath(TEMPLATE)))


def function_zip() -> bytes:
    """The SQL function's deployment package: ``redshift_sql.py`` at the root (its handler is
    ``redshift_sql.handler``) and the pipeline's SQL files under ``sql/`` (the ``SqlFile``
    paths the template's definition names)."""
    handler = resources.files("eltflow.lambdas").joinpath("redshift_sql.py")
    sql = resources.files(__package__ or __name__).joinpath("sql")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("redshift_sql.py", handler.read_bytes())
        for entry in sorted(sql.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".sql"):
                zf.writestr(f"sql/{entry.name}", entry.read_bytes())
    return buf.getvalue()


def parameters(config: ReferenceConfig) -> dict[str, str]:
    """The stack's parameters for a local deploy, from ``[pipelines.reference]``."""
    return {
        "RedshiftClusterIdentifier": config.cluster,
        "DatabaseUserName": LOCAL_DB_USER,
        "DatabaseName": config.database,
        "RedshiftIAMRoleARN": LOCAL_REDSHIFT_ROLE,
        "ArtifactBucket": ARTIFACT_BUCKET,
        "ArtifactKey": ARTIFACT_KEY,
    }
