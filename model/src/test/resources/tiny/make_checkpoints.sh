#!/bin/sh
# Regenerates the tiny checkpoints in this folder with the project's generator (mgm.tools.tiny).
# Build first: ./mvnw -q -B -pl tools -am compile   (from the repository root)
# Usage: model/src/test/resources/tiny/make_checkpoints.sh  (from the repository root)
set -e
ROOT=model/src/test/resources/tiny
CP=tools/target/classes:model/target/classes:loaders/target/classes:runtime/target/classes:kernels/target/classes
CP=$CP:$(find ~/.m2/repository/info/picocli -name 'picocli-*.jar' | head -1)
for j in jackson-databind jackson-core jackson-annotations; do
  CP=$CP:$(find ~/.m2/repository/com/fasterxml/jackson -name "$j-*.jar" | sort | tail -1)
done
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
gen() { "$JAVA" -cp "$CP" mgm.tools.tiny.TinyCheckpoints --seed 0 --out "$ROOT" "$@"; }
for f in vicuna llama3 gemma mixtral yi; do
  gen --family $f --no-towers-in-checkpoint
done
gen --family vicuna --dtype bf16 --name MGM-tiny-vicuna-bf16 --no-towers-in-checkpoint
gen --family gemma --dtype bf16 --name MGM-tiny-gemma-bf16 --no-towers-in-checkpoint
# One checkpoint keeps MGM's in-checkpoint tower copies (model.vision_tower.*, model.vision_tower_aux.*).
gen --family vicuna --hd
