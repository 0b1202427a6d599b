#!/usr/bin/env python3
"""Cut upstream's published OpenAPI v2 document (kubernetes api/openapi-spec/swagger.json) down
to the definitions the lab serves: the kinds below and everything they reference, unchanged.

    python3 trim.py swagger.json > definitions.json

The input used is the Kubernetes v1.33 swagger.json vendored by kube-rs/k8s-pb at commit f4f7a4a
("Update dependency kubernetes/kubernetes to v1.33.1"), k8s-pb-codegen/openapi/swagger.json.
"""
import json
import sys

ROOTS = [
    "io.k8s.api.core.v1." + k
    for k in ["Namespace", "Node", "ConfigMap", "Secret", "Service", "Endpoints", "Pod",
              "ServiceAccount", "Event"]
] + [
    "io.k8s.api.apps.v1.Deployment", "io.k8s.api.apps.v1.DaemonSet",
    "io.k8s.api.apps.v1.ReplicaSet",
    "io.k8s.api.rbac.v1.ClusterRole", "io.k8s.api.rbac.v1.ClusterRoleBinding",
    "io.k8s.api.rbac.v1.Role", "io.k8s.api.rbac.v1.RoleBinding",
    "io.k8s.api.discovery.v1.EndpointSlice", "io.k8s.api.events.v1.Event",
    "io.k8s.api.coordination.v1.Lease",
    "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
    "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService",
    "io.k8s.api.autoscaling.v1.Scale",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
]


def refs(node, out):
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str) and r.startswith("#/definitions/"):
            out.add(r[len("#/definitions/"):])
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def main():
    defs = json.load(open(sys.argv[1]))["definitions"]
    keep, todo = set(), list(ROOTS)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        found = set()
        refs(defs[name], found)
        todo.extend(found - keep)
    out = {name: defs[name] for name in sorted(keep)}
    json.dump(out, sys.stdout, separators=(",", ":"), sort_keys=True)


main()
