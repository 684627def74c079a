package mgm.tools.serve;

/**
 * How the server listens, whom it serves and what it accepts.
 *
 * @param host              address to bind (127.0.0.1 by default)
 * @param port              TCP port; 0 picks a free one
 * @param apiKey            the Bearer key /v1 and /metrics require, or null for none
 * @param allowLocalFiles   whether image_url may name a {@code file://} URL on the server's disk
 * @param queue             requests that may wait while one is generating; more get 429
 * @param maxBodyBytes      largest request body; more gets 413
 * @param maxImageBytes     largest encoded image (after base64 decoding); more gets 413
 * @param maxImagePixels    largest image (width x height); more gets 413
 * @param modelId           the name /v1/models and every response give the model
 * @param defaultTemperature temperature of requests that give none (MGM's 0.2)
 * @param defaultMaxTokens  most new tokens for requests that give no max_tokens (clipped to the context)
 */
public record ServerConfig(String host, int port, String apiKey, boolean allowLocalFiles, int queue, long maxBodyBytes,
                           long maxImageBytes, long maxImagePixels, String modelId, float defaultTemperature,
                           int defaultMaxTokens) {
    public static final int DEFAULT_QUEUE = 8;
    public static final long DEFAULT_MAX_BODY_BYTES = 32L << 20;
    public static final long DEFAULT_MAX_IMAGE_BYTES = 20L << 20;
    public static final long DEFAULT_MAX_IMAGE_PIXELS = 32L << 20;

    public ServerConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not in 0..65535");
        }
        if (queue < 0) {
            throw new IllegalArgumentException("queue " + queue + " must be >= 0");
        }
        if (maxBodyBytes < 1 || maxImageBytes < 1 || maxImagePixels < 1) {
            throw new IllegalArgumentException("size limits must be positive");
        }
        if (maxBodyBytes > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("the body limit " + maxBodyBytes + " is above 2 GiB");
        }
        if (!(defaultTemperature >= 0) || defaultMaxTokens < 1) {
            throw new IllegalArgumentException("default temperature must be >= 0 and default max tokens >= 1");
        }
        if (apiKey != null && apiKey.isEmpty()) {
            apiKey = null;
        }
    }

    /** Loopback, no key, no local files, the default limits: for tests and embedding. */
    public static ServerConfig local(String modelId) {
        return new ServerConfig("127.0.0.1", 0, null, false, DEFAULT_QUEUE, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_IMAGE_BYTES,
                DEFAULT_MAX_IMAGE_PIXELS, modelId, 0.2f, 512);
    }

    public ServerConfig withPort(int v) {
        return new ServerConfig(host, v, apiKey, allowLocalFiles, queue, maxBodyBytes, maxImageBytes, maxImagePixels, modelId,
                defaultTemperature, defaultMaxTokens);
    }

    public ServerConfig withApiKey(String v) {
        return new ServerConfig(host, port, v, allowLocalFiles, queue, maxBodyBytes, maxImageBytes, maxImagePixels, modelId,
                defaultTemperature, defaultMaxTokens);
    }

    public ServerConfig withAllowLocalFiles(boolean v) {
        return new ServerConfig(host, port, apiKey, v, queue, maxBodyBytes, maxImageBytes, maxImagePixels, modelId,
                defaultTemperature, defaultMaxTokens);
    }

    public ServerConfig withQueue(int v) {
        return new ServerConfig(host, port, apiKey, allowLocalFiles, v, maxBodyBytes, maxImageBytes, maxImagePixels, modelId,
                defaultTemperature, defaultMaxTokens);
    }

    public ServerConfig withLimits(long body, long imageBytes, long imagePixels) {
        return new ServerConfig(host, port, apiKey, allowLocalFiles, queue, body, imageBytes, imagePixels, modelId,
                defaultTemperature, defaultMaxTokens);
    }

    public ServerConfig withDefaults(float temperature, int maxTokens) {
        return new ServerConfig(host, port, apiKey, allowLocalFiles, queue, maxBodyBytes, maxImageBytes, maxImagePixels,
                modelId, temperature, maxTokens);
    }
}
