package mgm.loaders.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a SentencePiece ModelProto that tokenisation needs, read from the protobuf wire
 * format: pieces (text, score, type), trainer_spec (model type, byte_fallback, special ids, unk
 * surface, whitespace as suffix) and normalizer_spec (rules, dummy prefix, whitespace handling).
 */
final class SentencePieceProto {
    final List<String> pieces = new ArrayList<>();
    final List<Float> scores = new ArrayList<>();
    final List<Integer> types = new ArrayList<>();
    int modelType = 1; // UNIGRAM is the proto default
    boolean byteFallback;
    int unkId = 0;
    int bosId = 1;
    int eosId = 2;
    int padId = -1;
    String unkSurface = " \u2047 ";
    boolean treatWhitespaceAsSuffix;
    byte[] charsMap;
    String normalizerName;
    boolean addDummyPrefix = true;
    boolean removeExtraWhitespaces = true;
    boolean escapeWhitespaces = true;
    String source = "tokenizer.model";

    private SentencePieceProto() {}

    static SentencePieceProto parse(byte[] bytes, String source) {
        if (bytes.length == 0) {
            throw new IllegalArgumentException("the file is empty");
        }
        SentencePieceProto p = new SentencePieceProto();
        p.source = source;
        boolean sawTrainer = false;
        ProtoReader r = new ProtoReader(bytes, 0, bytes.length);
        while (r.hasMore()) {
            int tag = r.readTag();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (field == 1 && wire == ProtoReader.LEN) {
                readPiece(r.readMessage(), p);
            } else if (field == 2 && wire == ProtoReader.LEN) {
                readTrainerSpec(r.readMessage(), p);
                sawTrainer = true;
            } else if (field == 3 && wire == ProtoReader.LEN) {
                readNormalizerSpec(r.readMessage(), p);
            } else {
                r.skip(wire);
            }
        }
        if (p.pieces.isEmpty()) {
            throw new IllegalArgumentException("it has no pieces");
        }
        if (!sawTrainer) {
            throw new IllegalArgumentException("it has no trainer_spec (model type unknown)");
        }
        if (p.modelType != 2) {
            String name = switch (p.modelType) {
                case 1 -> "UNIGRAM";
                case 3 -> "WORD";
                case 4 -> "CHAR";
                default -> "type " + p.modelType;
            };
            throw new IllegalArgumentException("model type " + name + " is not supported (only BPE)");
        }
        if (p.normalizerName != null && !p.normalizerName.equals("identity") && (p.charsMap == null || p.charsMap.length == 0)
                && !p.normalizerName.isEmpty() && !p.normalizerName.equals("user_defined")) {
            throw new IllegalArgumentException("normalizer " + OnigRegex.quote(p.normalizerName)
                    + " has no precompiled_charsmap");
        }
        return p;
    }

    private static void readPiece(ProtoReader r, SentencePieceProto p) {
        String piece = null;
        float score = 0f;
        int type = SentencePieceModel.NORMAL;
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (tag) {
                case (1 << 3) | ProtoReader.LEN -> piece = r.readString();
                case (2 << 3) | ProtoReader.I32 -> score = Float.intBitsToFloat(r.readFixed32());
                case (3 << 3) | ProtoReader.VARINT -> type = (int) r.readVarint();
                default -> r.skip(tag & 7);
            }
        }
        if (piece == null) {
            throw new IllegalArgumentException("piece " + p.pieces.size() + " has no text");
        }
        p.pieces.add(piece);
        p.scores.add(score);
        p.types.add(type);
    }

    private static void readTrainerSpec(ProtoReader r, SentencePieceProto p) {
        while (r.hasMore()) {
            int tag = r.readTag();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (wire == ProtoReader.VARINT) {
                long v = r.readVarint();
                switch (field) {
                    case 3 -> p.modelType = (int) v;
                    case 24 -> p.treatWhitespaceAsSuffix = v != 0;
                    case 35 -> p.byteFallback = v != 0;
                    case 40 -> p.unkId = (int) v;
                    case 41 -> p.bosId = (int) v;
                    case 42 -> p.eosId = (int) v;
                    case 43 -> p.padId = (int) v;
                    default -> { }
                }
            } else if (wire == ProtoReader.LEN && field == 44) {
                p.unkSurface = r.readString();
            } else {
                r.skip(wire);
            }
        }
    }

    private static void readNormalizerSpec(ProtoReader r, SentencePieceProto p) {
        while (r.hasMore()) {
            int tag = r.readTag();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (wire == ProtoReader.VARINT) {
                boolean v = r.readVarint() != 0;
                switch (field) {
                    case 3 -> p.addDummyPrefix = v;
                    case 4 -> p.removeExtraWhitespaces = v;
                    case 5 -> p.escapeWhitespaces = v;
                    default -> { }
                }
            } else if (wire == ProtoReader.LEN && field == 1) {
                p.normalizerName = r.readString();
            } else if (wire == ProtoReader.LEN && field == 2) {
                p.charsMap = r.readBytes();
            } else {
                r.skip(wire);
            }
        }
    }
}
