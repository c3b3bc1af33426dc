"""A measuring baseline for bench/baseline.sh, not product code: the
stack first proposed for Atlas (FastAPI + Uvicorn + SQLAlchemy ORM +
SQLite + PyJWT) answering the two requests Atlas is compared on, a login
and an authenticated list of one interface's peers, plus /health.

Debian packages: python3-fastapi python3-uvicorn python3-sqlalchemy
python3-jwt. Environment: BASELINE_DB (SQLite file), BASELINE_PEERS (how
many peers to create in an empty database, default 50).
Run: /usr/bin/python3 -m uvicorn app:app --port PORT --log-level warning
"""
import base64
import hashlib
import os
import time

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel
from sqlalchemy import Column, ForeignKey, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

DB_PATH = os.environ.get("BASELINE_DB", "/tmp/atlas-baseline.db")
SEED = int(os.environ.get("BASELINE_PEERS", "50"))
KEY = os.urandom(32)
PASSWORD = "baseline-password"

engine = create_engine("sqlite:///" + DB_PATH, connect_args={"check_same_thread": False})
Sessions = sessionmaker(bind=engine)
Model = declarative_base()


class Interface(Model):
    __tablename__ = "interfaces"
    id = Column(Integer, primary_key=True)
    name = Column(String, unique=True, nullable=False)


class Peer(Model):
    __tablename__ = "peers"
    id = Column(Integer, primary_key=True)
    interface_id = Column(Integer, ForeignKey("interfaces.id"), index=True)
    name = Column(String, nullable=False)
    public_key = Column(String, nullable=False)
    address = Column(String, nullable=False)
    keepalive = Column(Integer, nullable=False, default=0)
    enabled = Column(Integer, nullable=False, default=1)


def fake_key(text):
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def seed():
    Model.metadata.create_all(engine)
    with Sessions() as s:
        if s.query(Interface).count():
            return
        ifc = Interface(name="wg0")
        s.add(ifc)
        s.flush()
        for i in range(1, SEED + 1):
            s.add(Peer(interface_id=ifc.id, name="p%d" % i, public_key=fake_key("p%d" % i),
                       address="10.200.%d.%d/32" % (i // 250, i % 250 + 2)))
        s.commit()


seed()
app = FastAPI()


def session():
    s = Sessions()
    try:
        yield s
    finally:
        s.close()


def user(authorization: str = Header(None)):
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(401, "a bearer token is needed")
    try:
        return jwt.decode(authorization[7:], KEY, algorithms=["HS256"])["sub"]
    except jwt.PyJWTError:
        raise HTTPException(401, "the token is not valid")


class Credentials(BaseModel):
    username: str
    password: str


@app.get("/api/health")
def health():
    return {"status": "ok"}


@app.post("/api/auth/login")
def login(body: Credentials):
    if body.username != "admin" or body.password != PASSWORD:
        raise HTTPException(401, "wrong user name or password")
    claims = {"sub": body.username, "exp": int(time.time()) + 3600}
    return {"token": jwt.encode(claims, KEY, algorithm="HS256")}


@app.get("/api/wireguard/interfaces/{name}/peers")
def peers(name: str, _=Depends(user), s: Session = Depends(session)):
    ifc = s.query(Interface).filter_by(name=name).first()
    if ifc is None:
        raise HTTPException(404, "no such interface")
    rows = s.query(Peer).filter_by(interface_id=ifc.id).order_by(Peer.name)
    return [{"name": p.name, "public_key": p.public_key, "address": [p.address],
             "keepalive": p.keepalive, "enabled": bool(p.enabled)} for p in rows]
