# whittle's real-program suite: a flask app on port 5000.
import hashlib

from flask import Flask, abort, jsonify, request

app = Flask(__name__)


@app.route("/")
def index():
    return "flask says hello\n"


@app.route("/hash")
def hash_():
    word = request.args.get("word", "")
    return jsonify(word=word, sha256=hashlib.sha256(word.encode()).hexdigest())


@app.route("/missing")
def missing():
    abort(404)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=5000)
