import json, sys
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    print(json.dumps({"ok": False, "error": "unsupported_problem", "message": "stub"}), flush=True)
