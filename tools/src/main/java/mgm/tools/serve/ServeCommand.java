package mgm.tools.serve;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import mgm.loaders.chat.ConversationTemplate;
import mgm.loaders.chat.TemplateSelector;
import mgm.tools.MgmRun;
import mgm.tools.ModelOptions;
import mgm.tools.Templates;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mgm-run serve}: an OpenAI-compatible HTTP API ({@code /v1/chat/completions} with images,
 * streaming) and a web chat page for one model. See {@link MgmServer}.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Serves a model over an OpenAI-compatible HTTP API, with a web chat page.",
        description = {"Serves the model in --model-path over HTTP: POST /v1/chat/completions (OpenAI's format: text and "
                + "image_url parts, stream: true as server-sent events), GET /v1/models, GET /health, GET /metrics "
                + "(Prometheus) and a web chat page at /.",
            "One request generates at a time; up to --queue more wait, the rest get 429. Each request is answered "
                + "from its own messages alone, so several replicas can stand behind one load balancer.",
            "Binding an address other than loopback needs --api-key (or --insecure-public)."},
        footerHeading = "%nExamples:%n",
        footer = {"  mgm-run serve --model-path work_dirs/MGM/MGM-7B-HD",
                "  mgm-run serve --model-path MGM-2B --port 8080 --queue 16 --load-4bit",
                "  MGM_API_KEY=secret mgm-run serve --model-path MGM-7B --host 0.0.0.0",
                "  curl http://127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' \\",
                "       -d '{\"model\": \"MGM-7B\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}]}'"})
public final class ServeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ModelOptions model;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 for every interface, which needs "
                    + "--api-key).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8000",
            description = "TCP port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Require 'Authorization: Bearer KEY' on /v1/* and /metrics (default: the MGM_API_KEY "
                    + "environment variable, else none).")
    String apiKey;

    @Option(names = "--insecure-public",
            description = "Allow a non-loopback --host without --api-key (anyone who reaches the port can use the model).")
    boolean insecurePublic;

    @Option(names = "--allow-local-files",
            description = "Accept image_url file:///path URLs: clients may then make the server read any image file it "
                    + "can read.")
    boolean allowLocalFiles;

    @Option(names = "--queue", paramLabel = "N", defaultValue = "" + ServerConfig.DEFAULT_QUEUE,
            description = "Requests that may wait while one generates; more get 429 (default: ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--max-body-bytes", paramLabel = "SIZE", defaultValue = "32m",
            description = "Largest request body, bytes or with k/m/g (default: ${DEFAULT-VALUE}); larger gets 413.")
    String maxBodyBytes;

    @Option(names = "--max-image-bytes", paramLabel = "SIZE", defaultValue = "20m",
            description = "Largest image file in a request (default: ${DEFAULT-VALUE}); larger gets 413.")
    String maxImageBytes;

    @Option(names = "--max-image-pixels", paramLabel = "N", defaultValue = "" + ServerConfig.DEFAULT_MAX_IMAGE_PIXELS,
            description = "Largest image, width x height (default: ${DEFAULT-VALUE}); larger gets 413.")
    long maxImagePixels;

    @Option(names = "--conv-mode", paramLabel = "MODE",
            description = "Conversation template (default: auto, from the model name as MGM does).")
    String convMode;

    @Option(names = "--model-name", paramLabel = "NAME",
            description = "The model's id in /v1/models and responses (default: the model folder's name).")
    String modelName;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.2",
            description = "Temperature of requests that give none (default: ${DEFAULT-VALUE}, MGM's).")
    float temperature;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "512",
            description = "Most new tokens of requests that give no max_tokens (default: ${DEFAULT-VALUE}; clipped to the "
                    + "context).")
    int maxNewTokens;

    @Option(names = "--debug", description = "Print stack traces of internal errors on the server's stderr.")
    boolean debug;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        Path modelPath = model.requireModelPath(spec.commandLine());
        model.validate();
        Templates.check(convMode);
        ServerConfig config = config(modelPath);
        MgmServer.debug = debug || System.getenv("MGM_DEBUG") != null;
        MgmServer server;
        try {
            server = MgmServer.start(config, () -> {
                ModelOptions.Loaded l = model.load(spec.commandLine(), err);
                ConversationTemplate t = Templates.select(modelPath, convMode, l.model().tokenizer(), err);
                err.println("mgm-run: conversation template " + t.name());
                return new MgmServer.Loaded(l.model(), t, l);
            });
        } catch (IOException e) {
            throw MgmRun.CommandFailure.usage(e.getMessage());
        }
        Thread hook = Thread.ofPlatform().unstarted(server::close);
        Runtime.getRuntime().addShutdownHook(hook);
        err.println("mgm-run: listening on " + server.url() + " (loading " + config.modelId() + ")");
        try {
            server.awaitLoaded();
        } catch (RuntimeException | Error e) {
            Runtime.getRuntime().removeShutdownHook(hook);
            server.close();
            throw e;
        }
        err.println("mgm-run: serving " + config.modelId() + " at " + server.url() + "/v1 (web chat: " + server.url()
                + "/)" + (config.apiKey() != null ? ", API key required" : ""));
        err.flush();
        server.join();
        return MgmRun.EXIT_OK;
    }

    ServerConfig config(Path modelPath) {
        String key = apiKey != null ? apiKey : System.getenv("MGM_API_KEY");
        if (!isLoopback(host) && (key == null || key.isEmpty()) && !insecurePublic) {
            throw MgmRun.CommandFailure.usage("--host " + host + " is reachable from other machines: give --api-key KEY "
                    + "(or MGM_API_KEY), or --insecure-public to serve without one");
        }
        if (queue < 0) {
            throw MgmRun.CommandFailure.usage("--queue must be >= 0, got " + queue);
        }
        if (maxImagePixels < 1) {
            throw MgmRun.CommandFailure.usage("--max-image-pixels must be >= 1, got " + maxImagePixels);
        }
        if (!(temperature >= 0) || temperature > 2) {
            throw MgmRun.CommandFailure.usage("--temperature must be in [0, 2], got " + temperature);
        }
        if (maxNewTokens < 1) {
            throw MgmRun.CommandFailure.usage("--max-new-tokens must be >= 1, got " + maxNewTokens);
        }
        long body = size("--max-body-bytes", maxBodyBytes);
        if (body > Integer.MAX_VALUE - 16) {
            throw MgmRun.CommandFailure.usage("--max-body-bytes must be below 2g, got " + maxBodyBytes);
        }
        String id = modelName != null && !modelName.isBlank() ? modelName : TemplateSelector.modelName(modelPath.toString());
        try {
            return new ServerConfig(host, port, key, allowLocalFiles, queue, body, size("--max-image-bytes", maxImageBytes),
                    maxImagePixels, id, temperature, maxNewTokens);
        } catch (IllegalArgumentException e) {
            throw MgmRun.CommandFailure.usage(e.getMessage());
        }
    }

    private static long size(String option, String value) {
        long v = ModelOptions.parseSize(value);
        if (v < 1) {
            throw MgmRun.CommandFailure.usage(option + " must be at least 1 byte, got " + value);
        }
        return v;
    }

    /** 127.0.0.0/8, ::1 and names that resolve only to those (localhost). */
    static boolean isLoopback(String host) {
        try {
            InetAddress[] all = InetAddress.getAllByName(host);
            for (InetAddress a : all) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return all.length > 0;
        } catch (UnknownHostException e) {
            throw MgmRun.CommandFailure.usage("--host: unknown host '" + host + "'");
        }
    }
}
