"""The article's canary release driven entirely through Triton's gRPC API, from stubs that grpcio-tools
generates from Sources/TritonGRPC/Protos (an independent toolchain). Checks the Triton-shaped replies
at each step. Usage: canary_client.py HOST:PORT STUBS_DIR [--ca PEM] [--smoke] (tokens: see TOKENS).
--ca: connect over TLS, trusting that certificate; --smoke: only a few calls (reads and error classes)."""
import sys
import time

import grpc

sys.path.insert(0, sys.argv[2])
import application_pb2, application_pb2_grpc  # noqa: E402
import deployflow_pb2, deployflow_pb2_grpc  # noqa: E402
import pod_pb2, pod_pb2_grpc  # noqa: E402

TOKENS = {"deployer": "deployer-token-1", "approver": "approver-token-1", "viewer": "viewer-token-1"}


def auth(role):
    return [("authorization", "Bearer " + TOKENS[role]), ("x-request-id", "py-%s-%f" % (role, time.time()))]


def expect(condition, message):
    if not condition:
        print("FAIL:", message, flush=True)
        sys.exit(1)
    print("ok:", message, flush=True)


def expect_code(call, code, message):
    try:
        call()
    except grpc.RpcError as error:
        expect(error.code() == code, "%s (%s: %s)" % (message, error.code(), error.details()))
        return error
    expect(False, message + " (no error)")


def main():
    options = sys.argv[3:]
    if "--ca" in options:
        with open(options[options.index("--ca") + 1], "rb") as pem:
            channel = grpc.secure_channel(sys.argv[1], grpc.ssl_channel_credentials(root_certificates=pem.read()))
    else:
        channel = grpc.insecure_channel(sys.argv[1])
    flows = deployflow_pb2_grpc.DeployFlowStub(channel)
    apps = application_pb2_grpc.ApplicationStub(channel)
    pods = pod_pb2_grpc.PodStub(channel)
    meta = lambda name: deployflow_pb2.DeployMeta(namespace="prod", name=name)  # noqa: E731

    def wait(name, done, what, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            deploy = flows.Get(deployflow_pb2.DeployMetaRequest(deploy=meta(name)), metadata=auth("viewer")).deploy
            if done(deploy):
                return deploy
            time.sleep(0.05)
        expect(False, "%s: %s" % (what, deploy))

    # Errors: no token, unknown flow, bad input.
    expect_code(lambda: flows.Get(deployflow_pb2.DeployMetaRequest(deploy=meta("x"))), grpc.StatusCode.UNAUTHENTICATED, "no token")
    expect_code(lambda: flows.Get(deployflow_pb2.DeployMetaRequest(deploy=meta("nope")), metadata=auth("viewer")),
                grpc.StatusCode.NOT_FOUND, "unknown flow")
    bad = deployflow_pb2.CreateRequest(namespace="prod", instanceName="checkout",
                                       applicationSpec=deployflow_pb2.ApplicationSpec(image="shop/checkout:v1", replicas={"value": 4}),
                                       strategy=deployflow_pb2.UpdateStrategy(batchSize="0"))
    error = expect_code(lambda: flows.Create(bad, metadata=auth("deployer")), grpc.StatusCode.INVALID_ARGUMENT, "batchSize 0")
    expect("strategy.batchSize" in error.details(), "the error names the field")
    expect_code(lambda: flows.Create(bad, metadata=auth("viewer")), grpc.StatusCode.PERMISSION_DENIED, "a viewer may not create")
    if "--smoke" in options:
        listed = flows.Gets(deployflow_pb2.DeploysRequest(filter=deployflow_pb2.DeployFilter(namespace="prod")), metadata=auth("viewer"))
        expect(len(listed.deploys) == 0, "Gets on an empty log")
        expect_code(lambda: flows.Gets(deployflow_pb2.DeploysRequest(), metadata=[]), grpc.StatusCode.UNAUTHENTICATED, "no token")
        expect_code(lambda: apps.Delete(application_pb2.InstanceMetaRequest(instance=application_pb2.InstanceMeta(namespace="prod", name="x")),
                                        metadata=auth("viewer")), grpc.StatusCode.PERMISSION_DENIED, "a viewer may not delete")
        print("PASS", flush=True)
        return

    # Create 4 pods of v1, one auto batch.
    create = deployflow_pb2.CreateRequest(
        appID=12122, groupID=10010, appName="checkout", instanceName="checkout", namespace="prod", reason="first release",
        applicationSpec=deployflow_pb2.ApplicationSpec(image="shop/checkout:v1", replicas={"value": 4}),
        strategy=deployflow_pb2.UpdateStrategy(batchSize="4", mode="auto"))
    created = flows.Create(create, metadata=auth("deployer")).deploy
    expect(created.name.startswith("checkout-") and created.action == "create" and created.batches == 1, "create: " + created.name)
    wait(created.name, lambda d: d.phase == "Success", "create succeeds")

    # The canary update: canary 1, then batches of 50%, manual.
    update = deployflow_pb2.CreateRequest(
        appID=12122, groupID=10010, appName="checkout", instanceName="checkout", namespace="prod", reason="release v2",
        applicationSpec=deployflow_pb2.ApplicationSpec(image="shop/checkout:v2"),
        strategy=deployflow_pb2.UpdateStrategy(canary=1, batchSize="50%", mode="manual"))
    deploy = flows.Create(update, metadata=auth("deployer")).deploy
    name = deploy.name
    expect(deploy.action == "update" and deploy.batches == 3 and deploy.canary == 1 and deploy.mode == "manual", "update planned 1+2+1... " + str(deploy.batches))

    # Watch streams the flow until the canary is smoke-tested.
    for reply in flows.Watch(deployflow_pb2.WatchRequest(deploy=meta(name)), metadata=auth("viewer")):
        if reply.deploy.conditions and reply.deploy.conditions[0].phase == "Smoked":
            break
    expect(reply.deploy.conditions[0].canary and reply.deploy.conditions[0].phase == "Smoked", "canary Smoked via Watch")

    expect_code(lambda: flows.Next(deployflow_pb2.NextRequest(deploy=meta(name)), metadata=auth("deployer")),
                grpc.StatusCode.PERMISSION_DENIED, "a deployer may not pass the canary")
    after = flows.Next(deployflow_pb2.NextRequest(deploy=meta(name), reason="canary healthy"), metadata=auth("approver")).deploy
    expect(after.conditions[0].phase == "Baking", "Next pulls the canary in: " + after.conditions[0].phase)

    # Watch with a target: ends once batch 1 is done.
    last = None
    for reply in flows.Watch(deployflow_pb2.WatchRequest(deploy=meta(name), target=deployflow_pb2.TargetState(batches=1)), metadata=auth("viewer")):
        last = reply.deploy
    expect(last.finishedBatches >= 1 and last.conditions[0].phase == "Baked", "Watch to target batches=1 ends at Baked")

    for batch in (2, 3):
        flows.Next(deployflow_pb2.NextRequest(deploy=meta(name), reason="start batch %d" % batch), metadata=auth("deployer"))
        wait(name, lambda d, b=batch: d.finishedBatches >= b, "batch %d baked" % batch)
    done = wait(name, lambda d: d.phase == "Success", "update succeeds")
    expect(done.finished and done.finishedReplicas == 4 and done.finishedBatches == 3, "Success: 4 replicas in 3 batches")

    listed = flows.Gets(deployflow_pb2.DeploysRequest(filter=deployflow_pb2.DeployFilter(namespace="prod", instanceName="checkout")),
                        metadata=auth("viewer")).deploys
    expect(name in [d.name for d in listed], "Gets lists the flow")

    instance = apps.Get(application_pb2.InstanceMetaRequest(instance=application_pb2.InstanceMeta(namespace="prod", name="checkout")),
                        metadata=auth("viewer")).instance
    expect(instance.image == "shop/checkout:v2" and instance.replicas == 4, "Application.Get: v2, 4 replicas")
    listed_pods = pods.Gets(pod_pb2.GetsRequest(filter=pod_pb2.PodFilter(namespace="prod", instanceName="checkout")),
                            metadata=auth("viewer")).pods
    live = [p for p in listed_pods if p.status == "Ready"]
    expect(len(live) == 4, "Pod.Gets: 4 ready pods (%s)" % [(p.name, p.status) for p in listed_pods])

    # The rest of the services: Application.Gets, Pod.Get, Restart, Rollback, Delete.
    instances = apps.Gets(application_pb2.GetsRequest(filter=application_pb2.InstanceFilter(namespace="prod")), metadata=auth("viewer")).instances
    expect([i.name for i in instances] == ["checkout"], "Application.Gets")
    one = pods.Get(pod_pb2.PodMetaRequest(pod=pod_pb2.PodMeta(namespace="prod", name=live[0].name)), metadata=auth("viewer")).pod
    expect(one.name == live[0].name and one.instanceName == "checkout", "Pod.Get")
    expect_code(lambda: pods.Get(pod_pb2.PodMetaRequest(pod=pod_pb2.PodMeta(namespace="prod", name="checkout-zzzzz")), metadata=auth("viewer")),
                grpc.StatusCode.NOT_FOUND, "Pod.Get of a missing pod")
    instance_meta = application_pb2.InstanceMeta(namespace="prod", name="checkout")
    expect_code(lambda: apps.Restart(application_pb2.RestartRequest(instance=instance_meta, strategy=deployflow_pb2.NonUpdateStrategy(podsToDelete=["nope-12345"])),
                                     metadata=auth("deployer")), grpc.StatusCode.INVALID_ARGUMENT, "Restart of a pod the instance does not have")
    restart = apps.Restart(application_pb2.RestartRequest(instance=instance_meta, reason="stuck",
                                                          strategy=deployflow_pb2.NonUpdateStrategy(podsToDelete=[live[0].name], mode="auto")),
                           metadata=auth("deployer"))
    wait(restart.deployName, lambda d: d.phase == "Success", "restart succeeds")
    rollback = apps.Rollback(application_pb2.RollbackRequest(instance=instance_meta, reason="back to v1",
                                                             strategy=deployflow_pb2.UpdateStrategy(batchSize="2", mode="auto")),
                             metadata=auth("deployer"))
    expect(rollback.rollbackTo == created.name, "Rollback goes back to the create: " + rollback.rollbackTo)
    wait(rollback.deployName, lambda d: d.phase == "Success", "rollback succeeds")
    back = apps.Get(application_pb2.InstanceMetaRequest(instance=instance_meta), metadata=auth("viewer")).instance
    expect(back.image == "shop/checkout:v1", "the instance runs v1 again")

    # ListAndWatch: the first reply is the current list.
    stream = flows.ListAndWatch(deployflow_pb2.DeploysRequest(filter=deployflow_pb2.DeployFilter(namespace="prod")), metadata=auth("viewer"))
    first = next(iter(stream))
    stream.cancel()
    expect(len(first.deploys) == 4, "ListAndWatch lists the 4 flows")

    # Pause and Resume stream until the flow shows it; Delete cancels.
    update3 = deployflow_pb2.CreateRequest(instanceName="checkout", namespace="prod", reason="v3",
                                           applicationSpec=deployflow_pb2.ApplicationSpec(image="shop/checkout:v3"),
                                           strategy=deployflow_pb2.UpdateStrategy(batchSize="1", mode="manual"))
    third = flows.Create(update3, metadata=auth("deployer")).deploy.name
    paused = list(flows.Pause(deployflow_pb2.DeployMetaRequest(deploy=meta(third), reason="hold"), metadata=auth("deployer")))
    expect(paused[-1].deploy.paused, "Pause streams until paused")
    expect_code(lambda: list(flows.Pause(deployflow_pb2.DeployMetaRequest(deploy=meta(third)), metadata=auth("deployer"))),
                grpc.StatusCode.FAILED_PRECONDITION, "Pause twice")
    resumed = list(flows.Resume(deployflow_pb2.DeployMetaRequest(deploy=meta(third), reason="go on"), metadata=auth("deployer")))
    expect(not resumed[-1].deploy.paused, "Resume streams until resumed")
    flows.Delete(deployflow_pb2.DeployMetaRequest(deploy=meta(third), reason="not today"), metadata=auth("deployer"))
    expect(wait(third, lambda d: d.finished, "deleted").phase == "Canceled", "Delete cancels the flow")
    expect_code(lambda: flows.Delete(deployflow_pb2.DeployMetaRequest(deploy=meta(third)), metadata=auth("viewer")),
                grpc.StatusCode.PERMISSION_DENIED, "a viewer may not delete a flow")
    expect_code(lambda: flows.Delete(deployflow_pb2.DeployMetaRequest(deploy=meta(third)), metadata=auth("deployer")),
                grpc.StatusCode.FAILED_PRECONDITION, "Delete of a finished flow: the log keeps it")
    error = expect_code(lambda: apps.Scale(application_pb2.ScaleRequest(instance=instance_meta), metadata=auth("deployer")),
                        grpc.StatusCode.INVALID_ARGUMENT, "Scale without replicas scales nothing away")
    expect(error.details().startswith("replicas:"), "the error names replicas: " + error.details())

    # Scale out, manual, then cancel it with the streaming Cancel.
    scale = apps.Scale(application_pb2.ScaleRequest(instance=application_pb2.InstanceMeta(namespace="prod", name="checkout"), replicas=6,
                                                    strategy=deployflow_pb2.NonUpdateStrategy(batchSize="1", mode="manual"), reason="more"),
                       metadata=auth("deployer"))
    expect(scale.deployName.startswith("checkout-"), "Application.Scale: " + scale.deployName)
    replies = list(flows.Cancel(deployflow_pb2.DeployMetaRequest(deploy=meta(scale.deployName), reason="not now"), metadata=auth("deployer")))
    expect(replies and replies[-1].deploy.phase == "Canceled", "Cancel streams until Canceled")

    # Application.Delete: a viewer may not; the deployer's call (with a reason in the metadata) deletes the
    # CloneSet and its pods; then the instance is gone and a second Delete finds nothing.
    expect_code(lambda: apps.Delete(application_pb2.InstanceMetaRequest(instance=instance_meta), metadata=auth("viewer")),
                grpc.StatusCode.PERMISSION_DENIED, "a viewer may not delete")
    apps.Delete(application_pb2.InstanceMetaRequest(instance=instance_meta), metadata=auth("deployer") + [("reason", "retired")])
    deadline = time.time() + 60
    while True:
        try:
            apps.Get(application_pb2.InstanceMetaRequest(instance=instance_meta), metadata=auth("viewer"))
        except grpc.RpcError as error:
            expect(error.code() == grpc.StatusCode.NOT_FOUND, "Get after Delete: " + str(error.code()))
            break
        expect(time.time() < deadline, "the instance is deleted within 60 s")
        time.sleep(0.2)
    error = expect_code(lambda: apps.Delete(application_pb2.InstanceMetaRequest(instance=instance_meta), metadata=auth("deployer")),
                        grpc.StatusCode.NOT_FOUND, "Delete of a deleted instance")
    expect(error.details().startswith("instance.name:"), "the error names instance.name: " + error.details())
    print("PASS", flush=True)


main()
