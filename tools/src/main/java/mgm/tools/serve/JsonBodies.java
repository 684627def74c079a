package mgm.tools.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import org.eclipse.jetty.server.Request;

/** Reading a request body within its size limit, and strict JSON (no duplicate keys, nothing after the value). */
final class JsonBodies {
    static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            // Images come as base64 strings: one string may be nearly as long as the body limit.
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).maxNestingDepth(100)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private JsonBodies() {}

    /** The body, or 413 when it is (or declares to be) larger than {@code maxBytes}. */
    static byte[] read(Request request, long maxBytes) throws IOException {
        long declared = request.getLength();
        if (declared > maxBytes) {
            throw tooLarge(declared + " bytes", maxBytes);
        }
        InputStream in = Request.asInputStream(request);
        byte[] data;
        try {
            data = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        } catch (IOException e) {
            throw new ChatCompletions.ClientGone(e); // the client stopped sending (closed, or idle past the timeout)
        }
        if (data.length > maxBytes) {
            throw tooLarge("more than " + maxBytes + " bytes", maxBytes);
        }
        return data;
    }

    private static ApiError tooLarge(String size, long max) {
        return ApiError.tooLarge("the request body has " + size + "; the limit is " + max + " bytes (--max-body-bytes)",
                null, "request_too_large");
    }

    static JsonNode parse(byte[] body) {
        if (body.length == 0) {
            throw ApiError.badRequest("the request body is empty; send a JSON object", null);
        }
        try {
            JsonNode n = JSON.readTree(body);
            if (n == null || n.isMissingNode()) {
                throw ApiError.badRequest("the request body is empty; send a JSON object", null);
            }
            return n;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")";
            throw ApiError.badRequest("We could not parse the JSON body of your request: "
                    + oneLine(e.getOriginalMessage()) + where, null, "invalid_json");
        } catch (IOException e) {
            throw ApiError.badRequest("We could not parse the JSON body of your request: " + oneLine(e.getMessage()), null,
                    "invalid_json");
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
