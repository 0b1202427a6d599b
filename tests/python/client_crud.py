"""The official Python `kubernetes` client against the lab API server: CRUD on ConfigMaps,
Services and Deployments, deletes, a paged list and a watch, every answer decoded into the
client's typed models (which fail loudly on a wrong shape).

Usage: python client_crud.py KUBECONFIG
Prints one `ok: ...` line per step and `ALL OK` at the end; any failure raises.
"""
import sys

from kubernetes import client, config, watch

NS = "default"


def typed(api, value, model):
    """Newer clients return DELETE answers untyped (the API says: a Status or the object);
    decode them into `model` with the client's own deserializer, which checks the shape."""
    if isinstance(value, dict):
        assert value.get("kind") == model[2:], value
        return api.api_client._ApiClient__deserialize(value, model)
    return value


def main(kubeconfig):
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()

    # ConfigMaps: create, read, patch, replace, delete.
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-cm", labels={"from": "python"}),
                            data={"a": "1"})
    created = core.create_namespaced_config_map(NS, cm)
    assert isinstance(created, client.V1ConfigMap) and created.metadata.uid, created
    read = core.read_namespaced_config_map("py-cm", NS)
    assert read.data == {"a": "1"}, read.data
    patched = core.patch_namespaced_config_map("py-cm", NS, {"data": {"b": "2"}})
    assert patched.data == {"a": "1", "b": "2"}, patched.data
    patched.data["c"] = "3"
    replaced = core.replace_namespaced_config_map("py-cm", NS, patched)
    assert replaced.data["c"] == "3"
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    print("ok: configmap create/read/patch/replace")

    status = typed(core, core.delete_namespaced_config_map("py-cm", NS), "V1Status")
    assert isinstance(status, client.V1Status), type(status)
    assert status.status == "Success", status
    assert status.details.name == "py-cm" and status.details.kind == "configmaps", status.details
    assert status.details.uid == created.metadata.uid, status.details
    try:
        core.read_namespaced_config_map("py-cm", NS)
        raise AssertionError("deleted configmap still readable")
    except client.ApiException as e:
        assert e.status == 404, e
    print("ok: configmap delete returns Status Success with details")

    # Services: create a LoadBalancer, read, list by label, delete.
    svc = client.V1Service(
        metadata=client.V1ObjectMeta(name="py-svc", labels={"from": "python"}),
        spec=client.V1ServiceSpec(type="LoadBalancer", selector={"app": "py"},
                                  ports=[client.V1ServicePort(port=80, target_port=8080)]))
    created = core.create_namespaced_service(NS, svc)
    assert created.spec.cluster_ip, created.spec
    assert created.spec.ports[0].target_port == 8080, created.spec.ports
    listed = core.list_namespaced_service(NS, label_selector="from=python")
    assert isinstance(listed, client.V1ServiceList)
    assert [s.metadata.name for s in listed.items] == ["py-svc"], listed.items
    assert listed.metadata.resource_version
    deleted = core.delete_namespaced_service("py-svc", NS)
    assert isinstance(deleted, client.V1Service) and deleted.metadata.name == "py-svc", deleted
    print("ok: service create/list/delete (the deleted Service returned, as upstream does)")

    # Deployments: create, scale through a patch, read, delete.
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="py-dep"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "py"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "py"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]))))
    created = apps.create_namespaced_deployment(NS, dep)
    assert created.spec.template.spec.containers[0].image == "nginx"
    apps.patch_namespaced_deployment("py-dep", NS, {"spec": {"replicas": 2}})
    assert apps.read_namespaced_deployment("py-dep", NS).spec.replicas == 2
    status = typed(apps, apps.delete_namespaced_deployment("py-dep", NS), "V1Status")
    assert status.details.group == "apps" and status.details.kind == "deployments", status
    print("ok: deployment create/patch/read/delete")

    # A paged list: limit + continue visits every object once.
    for i in range(5):
        core.create_namespaced_config_map(
            NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"page-{i}",
                                                                labels={"page": "yes"})))
    names, token, pages = [], None, 0
    while True:
        page = core.list_namespaced_config_map(NS, label_selector="page=yes", limit=2,
                                               _continue=token)
        assert isinstance(page, client.V1ConfigMapList)
        pages += 1
        names += [c.metadata.name for c in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count is not None, page.metadata
    assert sorted(names) == [f"page-{i}" for i in range(5)], names
    assert pages == 3, pages
    print("ok: paged list (3 pages of limit 2)")

    # A watch from the list's resourceVersion sees an ADDED and a DELETED event.
    rv = core.list_namespaced_config_map(NS).metadata.resource_version
    core.create_namespaced_config_map(
        NS, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="watched")))
    core.delete_namespaced_config_map("watched", NS)
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, NS, resource_version=rv,
                          timeout_seconds=10):
        obj = event["object"]
        assert isinstance(obj, client.V1ConfigMap), type(obj)
        if obj.metadata.name == "watched":
            seen.append(event["type"])
        if seen == ["ADDED", "DELETED"]:
            w.stop()
    assert seen == ["ADDED", "DELETED"], seen
    print("ok: watch ADDED, DELETED")

    # A 422 decodes into a Status with causes naming the field.
    try:
        core.create_namespaced_config_map(NS, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="Not_Valid")))
        raise AssertionError("invalid name accepted")
    except client.ApiException as e:
        assert e.status == 422, e
    print("ALL OK")


if __name__ == "__main__":
    main(sys.argv[1])
