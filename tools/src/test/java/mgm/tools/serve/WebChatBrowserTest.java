package mgm.tools.serve;

import static mgm.tools.serve.ApiClient.parse;
import static mgm.tools.serve.ApiClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web chat page in a real headless Chromium (Debian's chromium + chromium-driver): an image is
 * uploaded through the file input, a question sent, and the answer streams in with its timings
 * line. The answer must be the API's answer to the same request (greedy), and the timings must
 * count the image's tokens. Skipped, saying why, where chromium or chromedriver is not installed.
 */
class WebChatBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir
    static Path profile;
    static MgmServer server;
    static ChromeDriver browser;

    @BeforeAll
    static void start() {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "the browser test needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver); "
                        + "not installed here, so it is skipped");
        server = TinyServer.start(ServerConfig.local("MGM-tiny"));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=1100,900", "--user-data-dir=" + profile.resolve("chrome"));
        // The driver is named, so Selenium Manager never tries to download one.
        ChromeDriverService driver = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(driver, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void uploadAnImageAskAndSeeTheStreamedAnswerWithTimings() throws Exception {
        String question = "What is in the picture?";
        ObjectNode same = request(question, TinyServer.photoBytes());
        same.put("max_tokens", 12).put("top_p", 1);
        JsonNode api = parse(new ApiClient(server).chat(same).body());
        String expected = api.get("choices").get(0).get("message").get("content").asText();
        int promptTokens = api.get("usage").get("prompt_tokens").asInt();

        browser.get(server.url() + "/");
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(90));
        wait.until(d -> d.findElement(By.id("model-name")).getText().equals("MGM-tiny"));
        browser.findElement(By.cssSelector("#settings summary")).click(); // open the parameters
        set("temperature", "0");
        set("max-tokens", "12");
        browser.findElement(By.id("image-input")).sendKeys(TinyServer.photo().toString());
        wait.until(d -> d.findElements(By.cssSelector("#image-previews img")).size() == 1);
        // Count the DOM updates of the answer as it streams in.
        js("window.updates = 0; new MutationObserver(ms => { for (const m of ms) { if (m.target.closest && "
                + "m.target.closest('.message.assistant .text')) window.updates++; } }).observe("
                + "document.getElementById('messages'), {subtree: true, childList: true, characterData: true});");
        browser.findElement(By.id("prompt")).sendKeys(question);
        browser.findElement(By.id("send")).click();

        WebElement timings = wait.until(d -> d.findElement(By.cssSelector(".message.assistant .timings")));
        WebElement answer = browser.findElement(By.cssSelector(".message.assistant .text"));
        assertEquals(expected, js("return arguments[0].textContent;", answer), "the page shows the model's answer");
        assertTrue(timings.getText().contains("prompt " + promptTokens + " tokens"), "the timings count the image: "
                + timings.getText());
        assertTrue(timings.getText().contains("tok/s") && timings.getText().contains("image "), timings.getText());
        long updates = ((Number) js("return window.updates;")).longValue();
        assertTrue(updates > 1, "the answer arrived in pieces (" + updates + " updates)");
        assertEquals(1, browser.findElements(By.cssSelector(".message.user img")).size(), "the sent image is shown");
        assertTrue(browser.findElements(By.cssSelector(".message.error")).isEmpty());

        // A second turn: the page sends the whole conversation (the server keeps none).
        browser.findElement(By.id("prompt")).sendKeys("And then?\n");
        wait.until(d -> d.findElements(By.cssSelector(".message.assistant .timings")).size() == 2);
        List<WebElement> answers = browser.findElements(By.cssSelector(".message.assistant"));
        assertEquals(2, answers.size());
        assertTrue(browser.findElements(By.cssSelector(".message.error")).isEmpty(),
                browser.findElements(By.cssSelector(".message.error")).toString());
        Path shot = Path.of("target", "webchat.png");
        Files.createDirectories(shot.getParent());
        Files.write(shot, browser.getScreenshotAs(OutputType.BYTES));
    }

    private static void set(String id, String value) {
        WebElement e = browser.findElement(By.id(id));
        e.clear();
        e.sendKeys(value);
    }

    private static Object js(String script, Object... args) {
        return ((JavascriptExecutor) browser).executeScript(script, args);
    }

}
