#!/usr/bin/env python3
"""Prints AWS's own API models (botocore's service-2.json) of the named services as one JSON object.

Used by test/sandbox/model-conformance.test.ts to hold the emulators' answers to AWS's shapes:
    python3 sandbox/botocore-models.py ecr apprunner autoscaling elbv2
Exits 3 with an install hint when botocore is missing.
"""
import json
import sys

try:
    import botocore
    from botocore.loaders import Loader
except ImportError:
    sys.stderr.write("botocore is not installed: pip install botocore (or apt-get install python3-botocore)\n")
    sys.exit(3)

loader = Loader()


def strip(node):
    """Drops the documentation strings: the shapes alone are what the test needs (a tenth of the size)."""
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k != "documentation"}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


models = {name: strip(loader.load_service_model(name, "service-2")) for name in sys.argv[1:]}
json.dump({"botocore": botocore.__version__, "models": models}, sys.stdout)
