"""Seeds a fresh Sluice with one of everything the API's paths name, and prints the
ids as shell assignments (PROJECT_ID=...), so the fuzzer calls every operation with
real ids as well as made-up ones.

Each operation that deletes gets spare objects of its own (SPARE_*), so deleting
cannot take away what the other operations are called with.

Usage: seed.py BASE_URL TOKEN MEMBER_USER_ID SPARE_MEMBER_USER_ID
"""

import datetime
import io
import json
import sys
import urllib.error
import urllib.request
import zipfile


def main():
    base, token, member, spare_member = sys.argv[1:5]

    def call(method, path, body=None, raw=None, content_type="application/json"):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(f"{base}/api/v1{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request) as response:
                text = response.read()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            sys.exit(f"seeding: {method} {path}: {e.code} {e.read().decode(errors='replace')}")

    ids = {}
    ids["PROJECT_ID"] = project = call("POST", "/projects", {"name": "fuzzed"})["id"]
    call("POST", f"/projects/{project}/members", {"user_id": member, "role": "viewer"})
    ids["USER_ID"] = member
    ids["FOLDER_ID"] = call("POST", f"/projects/{project}/folders", {"name": "f"})["id"]
    sql = (
        "CREATE TEMPORARY TABLE a (x INT) WITH ('connector' = 'datagen');\n"
        "CREATE TEMPORARY TABLE b (x INT) WITH ('connector' = 'blackhole');\n"
        "INSERT INTO b SELECT x FROM a;"
    )
    job = call("POST", f"/projects/{project}/jobs", {"name": "j", "content": {"kind": "sql", "sql": sql}})
    ids["JOB_ID"] = job["id"]
    call("POST", f"/projects/{project}/jobs/{job['id']}/versions", {"message": "v1"})
    ids["CONNECTION_ID"] = call(
        "POST",
        f"/projects/{project}/connections",
        {"name": "c", "kind": "kafka", "properties": {"bootstrap.servers": "127.0.0.1:9"}},
    )["id"]
    boundary = "sluicefuzzboundary"

    def upload(file_name):
        jar = io.BytesIO()
        with zipfile.ZipFile(jar, "w") as z:
            z.writestr("META-INF/MANIFEST.MF", f"Manifest-Version: 1.0\nName: {file_name}\n")
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n"
            "Content-Type: application/java-archive\r\n\r\n"
        ).encode() + jar.getvalue() + f"\r\n--{boundary}--\r\n".encode()
        return call(
            "POST",
            f"/projects/{project}/artifacts",
            raw=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )["id"]

    ids["ARTIFACT_ID"] = upload("u.jar")
    # A cluster nobody listens at, on this machine: health checks fail fast.
    cluster = {"name": "down", "rest_url": "http://127.0.0.1:9", "flink_version": "2.3.0", "engine_version": "1.0.0"}
    ids["CLUSTER_ID"] = call("POST", "/clusters", cluster)["id"]
    ids["DEPLOYMENT_ID"] = call(
        "POST",
        f"/projects/{project}/deployments",
        {"name": "d", "job_id": job["id"], "cluster_id": ids["CLUSTER_ID"]},
    )["id"]
    ids["TOKEN_ID"] = call("POST", "/tokens", {"name": "t"})["token"]["id"]
    ids["INVITATION_ID"] = call("POST", "/account/invitations", {"email": "invitee@example.com"})["id"]
    ids["CHANNEL_ID"] = call(
        "POST",
        "/account/notification-channels",
        {"kind": "webhook", "name": "w", "address": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef"},
    )["id"]
    ids["GROUP_ID"] = call(
        "POST", f"/projects/{project}/contact-groups", {"name": "g", "emails": ["ops@example.com"]}
    )["id"]
    ids["RULE_ID"] = call(
        "POST",
        f"/projects/{project}/alert-rules",
        {"name": "r", "condition": "job_failed", "contact_group_id": ids["GROUP_ID"]},
    )["id"]
    ids["SILENCE_ID"] = call(
        "POST",
        f"/projects/{project}/silences",
        {"rule_id": ids["RULE_ID"], "ends_at": (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).isoformat(), "reason": "maintenance"},
    )["id"]
    # Spares for the operations that delete.
    ids["SPARE_PROJECT_ID"] = call("POST", "/projects", {"name": "spare"})["id"]
    call("POST", f"/projects/{project}/members", {"user_id": spare_member, "role": "viewer"})
    ids["SPARE_USER_ID"] = spare_member
    ids["SPARE_FOLDER_ID"] = call("POST", f"/projects/{project}/folders", {"name": "spare"})["id"]
    ids["SPARE_JOB_ID"] = call(
        "POST", f"/projects/{project}/jobs", {"name": "spare", "content": {"kind": "sql", "sql": sql}}
    )["id"]
    ids["SPARE_CONNECTION_ID"] = call(
        "POST",
        f"/projects/{project}/connections",
        {"name": "spare", "kind": "kafka", "properties": {"bootstrap.servers": "127.0.0.1:9"}},
    )["id"]
    ids["SPARE_ARTIFACT_ID"] = upload("spare.jar")
    ids["SPARE_CLUSTER_ID"] = call("POST", "/clusters", dict(cluster, name="spare"))["id"]
    ids["SPARE_DEPLOYMENT_ID"] = call(
        "POST",
        f"/projects/{project}/deployments",
        {"name": "spare", "job_id": job["id"], "cluster_id": ids["CLUSTER_ID"]},
    )["id"]
    ids["SPARE_TOKEN_ID"] = call("POST", "/tokens", {"name": "spare"})["token"]["id"]
    ids["SPARE_INVITATION_ID"] = call("POST", "/account/invitations", {"email": "invitee2@example.com"})["id"]
    ids["SPARE_CHANNEL_ID"] = call(
        "POST",
        "/account/notification-channels",
        {"kind": "webhook", "name": "spare", "address": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef"},
    )["id"]
    ids["SPARE_GROUP_ID"] = call(
        "POST", f"/projects/{project}/contact-groups", {"name": "spare", "emails": ["ops@example.com"]}
    )["id"]
    ids["SPARE_RULE_ID"] = call(
        "POST",
        f"/projects/{project}/alert-rules",
        {"name": "spare", "condition": "job_failed", "contact_group_id": ids["GROUP_ID"]},
    )["id"]
    ids["SPARE_SILENCE_ID"] = call(
        "POST",
        f"/projects/{project}/silences",
        {"rule_id": ids["RULE_ID"], "ends_at": (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).isoformat(), "reason": "spare"},
    )["id"]
    for name, value in ids.items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
