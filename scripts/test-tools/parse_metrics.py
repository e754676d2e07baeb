"""Reads a Prometheus text exposition on stdin with the Prometheus client's own parser
and prints its samples as JSON lines: {"name", "labels", "value", "type"}. Exits
non-zero (with the parser's error) on anything a scraper would refuse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        print(json.dumps({"name": sample.name, "labels": sample.labels,
                          "value": sample.value, "type": family.type}))
