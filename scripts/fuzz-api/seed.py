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

    ids = {"USER_ID": member, "SPARE_USER_ID": spare_member}
    project = call("POST", "/projects", {"name": "fuzzed"})["id"]
    for user in (member, spare_member):
        call("POST", f"/projects/{project}/members", {"user_id": user, "role": "viewer"})
    sql = (
        "CREATE TEMPORARY TABLE a (x INT) WITH ('connector' = 'datagen');\n"
        "CREATE TEMPORARY TABLE b (x INT) WITH ('connector' = 'blackhole');\n"
        "INSERT INTO b SELECT x FROM a;"
    )
    boundary = "sluicefuzzboundary"
    tomorrow = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).isoformat()
    in_project = f"/projects/{project}"

    def job(name):
        created = call("POST", f"{in_project}/jobs", {"name": name, "content": {"kind": "sql", "sql": sql}})
        call("POST", f"{in_project}/jobs/{created['id']}/versions", {"message": "v1"})
        return created

    def upload(name):
        jar = io.BytesIO()
        with zipfile.ZipFile(jar, "w") as z:
            z.writestr("META-INF/MANIFEST.MF", f"Manifest-Version: 1.0\nName: {name}\n")
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}.jar\"\r\n"
            "Content-Type: application/java-archive\r\n\r\n"
        ).encode() + jar.getvalue() + f"\r\n--{boundary}--\r\n".encode()
        return call(
            "POST", f"{in_project}/artifacts", raw=body, content_type=f"multipart/form-data; boundary={boundary}"
        )

    # How to make one of each kind, by the variable its id goes to; each is made twice,
    # once for the operations that use it and once as a spare for the one that deletes it.
    # Later kinds use the first of earlier ones.
    makers = {
        "PROJECT_ID": lambda n: {"id": project} if n == "seeded" else call("POST", "/projects", {"name": n}),
        "FOLDER_ID": lambda n: call("POST", f"{in_project}/folders", {"name": n}),
        "JOB_ID": job,
        "CONNECTION_ID": lambda n: call(
            "POST",
            f"{in_project}/connections",
            {"name": n, "kind": "kafka", "properties": {"bootstrap.servers": "127.0.0.1:9"}},
        ),
        "ARTIFACT_ID": upload,
        # A cluster nobody listens at, on this machine: health checks fail fast.
        "CLUSTER_ID": lambda n: call(
            "POST",
            "/clusters",
            {"name": n, "rest_url": "http://127.0.0.1:9", "flink_version": "2.3.0", "engine_version": "1.0.0"},
        ),
        "DEPLOYMENT_ID": lambda n: call(
            "POST", f"{in_project}/deployments", {"name": n, "job_id": ids["JOB_ID"], "cluster_id": ids["CLUSTER_ID"]}
        ),
        "TOKEN_ID": lambda n: call("POST", "/tokens", {"name": n})["token"],
        "INVITATION_ID": lambda n: call("POST", "/account/invitations", {"email": f"invitee-{n}@example.com"}),
        "CHANNEL_ID": lambda n: call(
            "POST",
            "/account/notification-channels",
            {"kind": "webhook", "name": n, "address": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef"},
        ),
        "GROUP_ID": lambda n: call("POST", f"{in_project}/contact-groups", {"name": n, "emails": ["ops@example.com"]}),
        "RULE_ID": lambda n: call(
            "POST",
            f"{in_project}/alert-rules",
            {"name": n, "condition": "job_failed", "contact_group_id": ids["GROUP_ID"]},
        ),
        "SILENCE_ID": lambda n: call(
            "POST", f"{in_project}/silences", {"rule_id": ids["RULE_ID"], "ends_at": tomorrow, "reason": n}
        ),
    }
    for key, make in makers.items():
        ids[key] = make("seeded")["id"]
        ids[f"SPARE_{key}"] = make("spare")["id"]
    for name, value in ids.items():
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
