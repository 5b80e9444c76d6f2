package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.model.TinyBert;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard as a person uses it, in a real headless Chromium (Debian's {@code chromium} and
 * {@code chromedriver}, installed by scripts/ci-deps.sh) against the real server: log in with a
 * key, upload data (and see a bad file's line-precise error), start a job, watch the loss chart
 * grow while it trains, see it succeed, read the report and try the model. Any browser console
 * message other than the deliberate wrong-key 401 fails the test. Skipped only when chromium or
 * chromedriver is missing.
 */
@Tag("browser")
@Tag("engine")
class DashboardBrowserTest {
  @TempDir static Path dir;
  static TestServer s;
  static InferenceRoutes inference;
  static String url;
  static List<String> sst2;

  @BeforeAll
  static void startServer() throws Exception {
    assumeTrue(
        Browser.available(),
        "skipping the dashboard browser test: /usr/bin/chromium or /usr/bin/chromedriver is"
            + " missing (scripts/ci-deps.sh installs them)");
    Path home = dir.resolve("home");
    // A base model under WHET_HOME/models is listed and resolved by its directory name.
    TinyBert.create(home.resolve("models").resolve("tiny-bert"), 3);
    Path stories = home.resolve("models").resolve("stories");
    Files.createDirectories(stories);
    for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
      Files.copy(ServerSftTest.STORIES.resolve(f), stories.resolve(f));
    }
    s =
        TestServer.start(
            home,
            b ->
                b.trainThreads(1)
                    .routesWithModels(
                        models -> {
                          inference = new InferenceRoutes(models::resolve);
                          return inference::register;
                        }));
    url = s.url("/");
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/sst2/dev-200.jsonl")) {
      sst2 = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
  }

  @AfterAll
  static void stopServer() {
    if (s != null) s.close();
    if (inference != null) inference.close();
  }

  @Test
  void logInUploadTrainWatchAndTryTheModel() throws Exception {
    Path bad = dir.resolve("bad.jsonl");
    Files.writeString(
        bad,
        "{\"text\": \"fine\", \"label\": \"<img src=x id=injected>\"}\n"
            + "{\"text\": \"no label here\"}\n");
    Path train = Files.write(dir.resolve("train.jsonl"), sst2.subList(0, 64));
    Path val = Files.write(dir.resolve("val.jsonl"), sst2.subList(64, 96));
    List<String> console = new ArrayList<>();

    try (Browser b = new Browser(1280, 1000)) {
      var d = b.driver;
      WebDriverWait wait = new WebDriverWait(d, Duration.ofSeconds(20));
      // Pages redraw as data arrives; an element read mid-redraw is tried again, not a failure.
      wait.ignoring(StaleElementReferenceException.class);

      // Log in: a wrong key gets a clear message, the right one opens the jobs list.
      d.get(url);
      wait.until(x -> x.getCurrentUrl().endsWith("#/login"));
      d.findElement(By.id("api-key")).sendKeys("sk-wrong");
      d.findElement(By.cssSelector("#login-form button[type=submit]")).click();
      wait.until(x -> text(x.findElement(By.id("login-error"))).contains("not accepted (401)"));
      d.findElement(By.id("api-key")).clear();
      d.findElement(By.id("api-key")).sendKeys(s.key);
      d.findElement(By.cssSelector("#login-form button[type=submit]")).click();
      wait.until(x -> !x.findElements(By.id("jobs-table")).isEmpty());
      List<String> login = b.console();
      assertTrue(
          login.stream().allMatch(l -> l.contains("401")), "only the wrong key's 401: " + login);

      // Upload: the bad file's errors name the line; its text stays text.
      d.findElement(By.linkText("Upload data")).click();
      WebElement file = wait.until(x -> x.findElement(By.id("upload-file")));
      file.sendKeys(bad.toString());
      WebElement errors = wait.until(x -> x.findElement(By.id("validation-errors")));
      String errorText = text(errors);
      assertTrue(errorText.matches("(?s).*\\b2\\b.*label.*"), "line 2, field label: " + errorText);
      assertFalse(d.findElement(By.id("upload-button")).isEnabled(), "a bad file is not uploaded");
      assertTrue(d.findElements(By.id("injected")).isEmpty(), "server text became markup");
      shot(b, "upload-bad");
      assertTrue(text(d.findElement(By.id("validation"))).contains("<img src=x id=injected>"));

      String trainId = upload(b, wait, train, "64 examples");
      String valId = upload(b, wait, val, "32 examples");

      // New job: a tiny model, many short steps, so training lasts long enough to watch.
      d.findElement(By.linkText("New job")).click();
      wait.until(
          x ->
              x.findElements(By.cssSelector("#job-model option[value='tiny-bert']")).size() == 1
                  && x.findElements(By.cssSelector("#job-validation-file option")).size() > 2);
      // Uploads carry the role their names suggest; the form defaults each field by it, and
      // warns when training and validation are the same file.
      assertEquals(
          "train", s.get("/v1/files/" + trainId, s.key).json().get("whet").get("role").asText());
      assertEquals(
          "validation", s.get("/v1/files/" + valId, s.key).json().get("whet").get("role").asText());
      assertEquals(trainId, d.findElement(By.id("job-training-file")).getAttribute("value"));
      assertEquals(valId, d.findElement(By.id("job-validation-file")).getAttribute("value"));
      new Select(d.findElement(By.id("job-model"))).selectByValue("tiny-bert");
      new Select(d.findElement(By.id("job-validation-file"))).selectByValue(trainId);
      wait.until(x -> textOf(x, "#job-warnings").contains("are the same file"));
      assertTrue(
          textOf(d, "#job-warnings").contains("only 64 examples"), textOf(d, "#job-warnings"));
      // Every auto shows what it resolves to, with the estimate, before anything is submitted.
      wait.until(x -> textOf(x, "#job-plan").contains("Estimate: about"));
      String plan = textOf(d, "#job-plan");
      assertTrue(
          plan.matches("(?s).*classify, full, \\d+ epochs \\(auto\\), batch \\d+ \\(auto\\).*"),
          plan);
      shot(b, "new-job-warnings");
      new Select(d.findElement(By.id("job-validation-file"))).selectByValue(valId);
      wait.until(x -> !textOf(x, "#job-warnings").contains("are the same file"));
      d.findElement(By.id("job-epochs")).sendKeys("12");
      d.findElement(By.id("job-batch-size")).sendKeys("4");
      d.findElement(By.id("job-lr-multiplier")).sendKeys("20");
      d.findElement(By.id("job-suffix")).sendKeys("dash");
      new Select(d.findElement(By.id("job-task"))).selectByValue("classify");
      d.findElement(By.id("job-whet-extra")).sendKeys("{\"max_length\": 32}");
      d.findElement(By.id("job-submit")).click();
      wait.until(x -> x.getCurrentUrl().contains("#/jobs/ftjob-"));
      String jobId = d.getCurrentUrl().substring(d.getCurrentUrl().indexOf("#/jobs/") + 7);

      // The loss chart gains points while the job runs (read from the event stream).
      WebDriverWait training = new WebDriverWait(d, Duration.ofSeconds(150));
      training.pollingEvery(Duration.ofMillis(100));
      int[] first = new int[1];
      training
          .withMessage("the loss chart never showed points while the job was running")
          .until(
              x -> {
                first[0] = points(x, "train-loss");
                return first[0] > 0 && status(x).equals("running");
              });
      training
          .withMessage("the loss chart did not grow beyond " + first[0] + " points while running")
          .until(x -> points(x, "train-loss") > first[0] && status(x).equals("running"));
      assertEquals("Training", textOf(d, "#job-stage li.current"));
      shot(b, "running");
      training.withMessage("the job did not succeed").until(x -> status(x).equals("succeeded"));
      assertTrue(points(d, "learning-rate") > 1, "learning-rate chart");
      // Step ticks are whole numbers; hovering a chart reads out the values at a step.
      for (WebElement tick :
          d.findElements(By.cssSelector("svg[data-chart='train-loss'] text.x-tick"))) {
        assertTrue(text(tick).replace(",", "").matches("\\d+"), "step tick " + text(tick));
      }
      new org.openqa.selenium.interactions.Actions(d)
          .moveToElement(d.findElement(By.cssSelector("svg[data-chart='train-loss']")))
          .perform();
      wait.until(x -> textOf(x, "svg[data-chart='train-loss'] .hover-readout").startsWith("step "));
      wait.until(x -> points(x, "valid-metric") > 0);
      // The job page redraws as the job's state arrives: read its text in one script call, never
      // through an element handle that a redraw may have replaced.
      String model =
          wait.until(
              x ->
                  textOf(x, "#fine-tuned-model").isEmpty() ? null : textOf(x, "#fine-tuned-model"));
      assertEquals("ft:tiny-bert:dash:" + jobId, model);
      wait.until(x -> textOf(x, "#events").contains("successfully completed"));
      wait.until(x -> x.findElements(By.cssSelector("#job-stage li:not(.done)")).isEmpty());
      assertTrue(textOf(d, "#stage-time").startsWith("Elapsed "), textOf(d, "#stage-time"));
      wait.until(x -> !x.findElement(By.id("cancel-job")).isDisplayed()); // finished: no cancel
      wait.until(x -> !x.findElements(By.cssSelector("#checkpoints-table tbody tr")).isEmpty());

      // The evaluation report in its sandboxed frame (no scripts, no access to this page).
      WebElement frame = wait.until(x -> x.findElement(By.id("report-frame")));
      assertEquals("", frame.getAttribute("sandbox"));
      d.switchTo().frame(frame);
      wait.until(x -> !x.findElements(By.cssSelector("svg[data-chart]")).isEmpty());
      assertFalse(text(d.findElement(By.tagName("h1"))).isBlank());
      d.switchTo().defaultContent();

      // Try it: classify two sentences, see a label and probability bars for each.
      WebElement input = d.findElement(By.id("try-input"));
      input.sendKeys("a charming and affecting journey\nbleak and desperate");
      d.findElement(By.id("try-run")).click();
      wait.until(x -> x.findElements(By.cssSelector("#try-output .predicted-label")).size() == 2);
      for (WebElement label : d.findElements(By.cssSelector("#try-output .predicted-label"))) {
        assertTrue(List.of("negative", "positive").contains(text(label)), text(label));
      }
      double sum = 0;
      for (WebElement bar : d.findElements(By.cssSelector("#try-output .bar[role=meter]"))) {
        sum += Double.parseDouble(bar.getAttribute("aria-valuenow"));
      }
      assertEquals(2.0, sum, 1e-3, "two predictions' probabilities");

      // The verdict first: a banner above the details, coloured by the outcome.
      String banner = textOf(d, "#verdict-banner");
      assertTrue(banner.contains("Fine-tuned macro F1"), banner);
      assertTrue(
          d.findElement(By.id("verdict-banner")).getAttribute("class").matches(".*outcome-.*"));

      // A checkpoint is served as a model: try the earliest one from its row.
      // (The table is redrawn as the job's state arrives: find and click in one try.)
      wait.until(
          x -> {
            List<WebElement> rows = x.findElements(By.cssSelector("#checkpoints-table tbody tr"));
            rows.get(rows.size() - 1)
                .findElement(By.cssSelector("button[aria-label^='Try checkpoint']"))
                .click();
            return true;
          });
      wait.until(x -> textOf(x, "#try-it").contains(":ckpt-step-"));
      d.findElement(By.id("try-input")).sendKeys("a charming and affecting journey");
      d.findElement(By.id("try-run")).click();
      wait.until(x -> x.findElements(By.cssSelector("#try-output .predicted-label")).size() == 1);

      // The evaluation's headline: the fine-tuned model and each baseline, a row each.
      String summary = text(wait.until(x -> x.findElement(By.cssSelector("#eval-summary table"))));
      assertTrue(summary.contains("fine-tuned") && summary.contains("linear probe"), summary);

      ((JavascriptExecutor) d).executeScript("window.scrollTo(0, 0)");
      shot(b, "job-finished");
      // A second job, cancelled from its page.
      d.findElement(By.linkText("New job")).click();
      wait.until(
          x -> x.findElements(By.cssSelector("#job-model option[value='tiny-bert']")).size() == 1);
      new Select(d.findElement(By.id("job-model"))).selectByValue("tiny-bert");
      new Select(d.findElement(By.id("job-training-file"))).selectByValue(trainId);
      d.findElement(By.id("job-submit")).click();
      awaitNewJobPage(d, jobId);
      String secondId = d.getCurrentUrl().substring(d.getCurrentUrl().indexOf("#/jobs/") + 7);
      wait.until(
              x -> {
                WebElement c = x.findElement(By.id("cancel-job"));
                return c.isDisplayed() ? c : null;
              })
          .click();
      wait.until(x -> status(x).equals("cancelled"));
      wait.until(x -> !x.findElement(By.id("cancel-job")).isDisplayed());

      // The jobs list shows both.
      d.findElement(By.linkText("Jobs")).click();
      WebElement row =
          wait.until(
              x -> x.findElement(By.cssSelector("#jobs-table tr[data-job='" + jobId + "']")));
      assertTrue(text(row).contains("succeeded"), text(row));
      WebElement second =
          wait.until(
              x -> x.findElement(By.cssSelector("#jobs-table tr[data-job='" + secondId + "']")));
      assertTrue(text(second).contains("cancelled"), text(second));

      // The models page: embeddings from the base model, with their cosine similarities.
      d.findElement(By.linkText("Models")).click();
      wait.until(x -> x.findElement(By.cssSelector("button[aria-label='Try tiny-bert']"))).click();
      wait.until(x -> x.findElement(By.id("try-input")))
          .sendKeys("a charming journey\nbleak and desperate");
      d.findElement(By.id("try-run")).click();
      String embedded = text(wait.until(x -> x.findElement(By.id("embed-summary"))));
      assertTrue(embedded.startsWith("2 vectors of dimension 32"), embedded);
      assertEquals(4, d.findElements(By.cssSelector("#try-output table.cosine td")).size());

      // Entity extraction (issue 18): a tagger's job page shows entity F1 and highlights the
      // entities it finds, in place, in the text tried.
      String sentence = String.join(" ", richSentences().get(0).stream().map(w -> w[0]).toList());
      String nerJob = taggerJob();
      d.get(url + "#/jobs/" + nerJob);
      wait.until(x -> x.findElement(By.id("try-input"))).sendKeys(sentence);
      d.findElement(By.id("try-run")).click();
      wait.until(x -> !x.findElements(By.cssSelector("#try-output mark.entity")).isEmpty());
      for (WebElement mark : d.findElements(By.cssSelector("#try-output mark.entity"))) {
        String type = text(mark.findElement(By.cssSelector(".entity-type")));
        String entity = text(mark);
        entity = entity.substring(0, entity.length() - type.length()).strip();
        assertTrue(sentence.contains(entity), "'" + entity + "' is a span of: " + sentence);
        assertFalse(type.isBlank());
      }
      assertTrue(text(d.findElement(By.id("try-output"))).contains("found"));
      shot(b, "entities");

      // A job that loses to a cheaper method says so first, on its page and in the jobs list.
      String losing = losingJob();
      d.get(url + "#/jobs/" + losing);
      String lost =
          wait.until(
              x -> textOf(x, "#verdict-banner").isEmpty() ? null : textOf(x, "#verdict-banner"));
      assertTrue(lost.startsWith("Below"), lost);
      assertTrue(lost.contains("best: "), lost);
      // Its single evaluation is drawn as a labelled value.
      wait.until(
          x ->
              !x.findElements(By.cssSelector("svg[data-chart='valid-metric'] .point-label"))
                  .isEmpty());
      assertTrue(
          d.findElement(By.id("verdict-banner")).getAttribute("class").contains("outcome-below"));
      ((JavascriptExecutor) d).executeScript("window.scrollTo(0, 0)");
      shot(b, "job-below-baseline");
      // Its try-it flags answers barely above a blind guess.
      wait.until(x -> x.findElement(By.id("try-input"))).sendKeys("item 7 is beta");
      d.findElement(By.id("try-run")).click();
      String unsure =
          text(wait.until(x -> x.findElement(By.cssSelector("#try-output .chance-warning"))));
      assertTrue(unsure.startsWith("Near chance"), unsure);
      d.findElement(By.linkText("Jobs")).click();
      String listed =
          text(
              wait.until(
                  x -> x.findElement(By.cssSelector("#jobs-table tr[data-job='" + losing + "']"))));
      assertTrue(listed.contains("succeeded · below baseline"), listed);
      assertTrue(listed.contains("macro F1 0."), listed);

      // Iterate: clone the first job, change its epochs and suffix, run it.
      d.get(url + "#/jobs/" + jobId);
      wait.until(x -> x.findElement(By.id("clone-job"))).click();
      wait.until(x -> textOf(x, "#cloned-from").contains("Cloned from job dash"));
      wait.until(
          x -> trainId.equals(x.findElement(By.id("job-training-file")).getAttribute("value")));
      assertEquals(valId, d.findElement(By.id("job-validation-file")).getAttribute("value"));
      assertEquals("tiny-bert", d.findElement(By.id("job-model")).getAttribute("value"));
      assertEquals("12", d.findElement(By.id("job-epochs")).getAttribute("value"));
      assertEquals("classify", d.findElement(By.id("job-task")).getAttribute("value"));
      assertEquals(
          "{\"max_length\":32}", d.findElement(By.id("job-whet-extra")).getAttribute("value"));
      d.findElement(By.id("job-epochs")).clear();
      d.findElement(By.id("job-epochs")).sendKeys("2");
      d.findElement(By.id("job-suffix")).clear();
      d.findElement(By.id("job-suffix")).sendKeys("dash2");
      d.findElement(By.id("job-submit")).click();
      awaitNewJobPage(d, jobId);
      String cloneId = d.getCurrentUrl().substring(d.getCurrentUrl().indexOf("#/jobs/") + 7);
      finished(cloneId, "the cloned job");
      JsonNode clone = s.get("/v1/fine_tuning/jobs/" + cloneId, s.key).json();
      assertEquals(2, clone.get("hyperparameters").get("n_epochs").asInt());
      assertEquals(32, clone.get("whet").get("options").get("max_length").asInt());
      assertEquals(valId, clone.get("validation_file").asText());

      // Compare the two: both named in the table, both drawn in the loss chart.
      d.findElement(By.linkText("Jobs")).click();
      for (String id : List.of(jobId, cloneId)) {
        wait.until(
                x ->
                    x.findElement(
                        By.cssSelector("#jobs-table tr[data-job='" + id + "'] input.pick")))
            .click();
      }
      wait.until(x -> x.findElement(By.id("compare-jobs")).isEnabled());
      d.findElement(By.id("compare-jobs")).click();
      String compared =
          text(wait.until(x -> x.findElement(By.cssSelector("#compare-table table"))));
      assertTrue(compared.contains("dash ·") && compared.contains("dash2 ·"), compared);
      assertTrue(compared.contains("Epochs") && compared.contains("Trained tokens"), compared);
      wait.until(x -> points(x, "compare-loss") > 0);
      wait.until(
          x ->
              ((Number)
                          ((JavascriptExecutor) x)
                              .executeScript(
                                  "return new Set([...document.querySelectorAll("
                                      + "\"svg[data-chart='compare-loss'] [data-series]\")]"
                                      + ".map(e => e.dataset.series)).size"))
                      .intValue()
                  == 2);
      shot(b, "compare");

      // Download the clone's model: the zip holds a model that loads and classifies as served.
      d.get(url + "#/jobs/" + cloneId);
      wait.until(x -> x.findElement(By.id("download-model")).isDisplayed());
      d.findElement(By.id("download-model")).click();
      Path zip =
          new WebDriverWait(d, Duration.ofSeconds(30))
              .until(
                  x -> {
                    try (var files = Files.list(b.downloads())) {
                      return files
                          .filter(f -> f.toString().endsWith(".zip"))
                          .findFirst()
                          .orElse(null);
                    } catch (java.io.IOException e) {
                      return null;
                    }
                  });
      Path unzipped = unzip(zip, dir.resolve("downloaded"));
      String cloneModel = clone.get("fine_tuned_model").asText();
      try (dev.whet.model.ClassifierModel loaded = dev.whet.model.ClassifierModel.load(unzipped)) {
        float[] p = loaded.predict(List.of("a charming journey"), null)[0];
        JsonNode served =
            s.post(
                    "/v1/whet/classify",
                    TestServer.JSON.writeValueAsString(
                        java.util.Map.of(
                            "model", cloneModel, "input", List.of("a charming journey"))),
                    s.key)
                .json();
        JsonNode probs = served.get("data").get(0).get("probs");
        assertEquals(p.length, probs.size(), served.toString());
        for (int j = 0; j < p.length; j++) {
          // The server may run in bf16 where the machine is faster in it; the files are the same.
          assertEquals(probs.get(loaded.labels().get(j)).asDouble(), p[j], 0.02, served.toString());
        }
      }

      // Deleting asks first, naming the model; keeping it keeps it, deleting says so on the page.
      d.findElement(By.id("delete-model")).click();
      String asked = text(wait.until(x -> x.findElement(By.id("confirm-text"))));
      assertTrue(asked.contains(cloneModel), asked);
      d.findElement(By.id("confirm-no")).click();
      assertEquals(200, s.get("/v1/models/" + cloneModel, s.key).status());
      d.findElement(By.id("delete-model")).click();
      wait.until(x -> x.findElement(By.id("confirm-yes"))).click();
      wait.until(x -> textOf(x, "#job-details").contains("deleted"));
      assertEquals(404, s.get("/v1/models/" + cloneModel, s.key).status());
      assertTrue(textOf(d, "#try-it").contains("deleted"));
      assertFalse(d.findElement(By.id("download-model")).isDisplayed());

      // Sentence embeddings (issue 18): a similarity job's page shows Spearman before and after.
      d.get(url + "#/jobs/" + similarityJob());
      String sts = text(wait.until(x -> x.findElement(By.cssSelector("#eval-summary table"))));
      assertTrue(
          sts.contains("Spearman") && sts.contains("Base") && sts.contains("Fine-tuned"), sts);
      shot(b, "similarity");

      // Preference tuning (issue 19): a DPO job's page leads with the verdict against prompting
      // the base model, then how often the preferred answer is the likelier one.
      d.get(url + "#/jobs/" + dpoJob());
      String dpoBanner =
          wait.until(
              x -> textOf(x, "#verdict-banner").isEmpty() ? null : textOf(x, "#verdict-banner"));
      assertTrue(dpoBanner.contains("log-likelihood"), dpoBanner);
      assertTrue(dpoBanner.matches("(?s).*interval -[0-9.]+ to -[0-9.]+.*"), dpoBanner);
      String systems =
          text(wait.until(x -> x.findElement(By.cssSelector("#generative-baselines"))));
      for (String system :
          List.of("zero-shot", "2 random examples", "2 nearest examples", "Fine-tuned model")) {
        assertTrue(systems.contains(system), system + " in: " + systems);
      }
      String prefers = textOf(d, "#eval-summary");
      assertTrue(prefers.contains("prefers the chosen answer"), prefers);
      shot(b, "dpo");

      // A narrow screen: no page scrolls sideways (wide tables scroll inside their own box).
      d.manage().window().setSize(new Dimension(500, 900));
      for (String page :
          List.of(
              "#/jobs/" + jobId,
              "#/jobs",
              "#/compare?jobs=" + jobId + "," + losing,
              "#/new",
              "#/upload",
              "#/models",
              "#/login")) {
        d.get(url + page);
        wait.until(x -> !x.findElements(By.cssSelector("main h1")).isEmpty());
        Thread.sleep(300); // let the page's first fetch fill it
        Object overflow =
            ((JavascriptExecutor) d)
                .executeScript(
                    "return document.documentElement.scrollWidth - document.documentElement"
                        + ".clientWidth;");
        assertEquals(0L, ((Number) overflow).longValue(), page + " scrolls sideways at 500 px");
        // Every control has a label a screen reader can read out.
        Object unlabelled =
            ((JavascriptExecutor) d)
                .executeScript(
                    "return [...document.querySelectorAll('main input, main select, main"
                        + " textarea')].filter(e => e.labels.length === 0 &&"
                        + " !e.getAttribute('aria-label')).map(e => e.id || e.name).join(',');");
        assertEquals("", unlabelled, page + " has unlabelled controls");
        // Every visible action lies inside the 500 px: reachable without sideways scrolling.
        Object cut =
            ((JavascriptExecutor) d)
                .executeScript(
                    "return [...document.querySelectorAll('main a, main button')].filter(e =>"
                        + " e.offsetParent !== null && (e.getBoundingClientRect().right >"
                        + " document.documentElement.clientWidth + 1 ||"
                        + " e.getBoundingClientRect().left < 0)).map(e => e.id ||"
                        + " e.textContent).join(',');");
        assertEquals("", cut, page + ": actions outside the screen");
        shot(
            b,
            "narrow-"
                + page.replaceAll("\\?.*", "")
                    .replaceAll("/ftjob-[A-Za-z0-9]+", "-detail")
                    .replaceAll("[^a-z-]", ""));
      }

      // Log out: the key is forgotten and the next page asks for it again.
      d.findElement(By.id("logout")).click();
      wait.until(x -> x.getCurrentUrl().endsWith("#/login"));
      assertEquals(
          null,
          ((JavascriptExecutor) d).executeScript("return localStorage.getItem('whet.apiKey')"));
      d.get(url + "#/jobs");
      wait.until(x -> x.getCurrentUrl().endsWith("#/login"));
      console.addAll(b.console());
    }
    assertTrue(console.isEmpty(), "browser console: " + console);
    assertTrue(Browser.seleniumManagerRuns().isEmpty(), "Selenium Manager ran");
  }

  /** Chooses a file on the upload page, waits for it to validate, uploads it; its file id. */
  /** The first dozen WNUT-17 dev sentences with an entity and at most 25 words. */
  private static List<List<String[]>> richSentences() throws Exception {
    String conll;
    try (InputStream in = TinyBert.class.getResourceAsStream("/data/wnut17_dev_full.conll")) {
      conll = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    List<List<String[]>> out = new ArrayList<>();
    for (String block : conll.strip().split("\n\\s*\n")) {
      List<String[]> words = block.lines().map(l -> l.split("\t")).toList();
      if (words.size() <= 25 && words.stream().anyMatch(w -> w[1].startsWith("B-"))) out.add(words);
      if (out.size() == 12) break;
    }
    return out;
  }

  /**
   * A tagger trained through the API on {@link #richSentences} until it knows them (as
   * TokenCommandsTest's memorising run), so that trying one of them finds entities.
   */
  private static String taggerJob() throws Exception {
    StringBuilder conll = new StringBuilder();
    for (List<String[]> sentence : richSentences()) {
      for (String[] w : sentence) conll.append(w[0]).append('\t').append(w[1]).append('\n');
      conll.append('\n');
    }
    String file = s.uploadText("ner.conll", conll.toString()).json().get("id").asText();
    TestServer.Response created =
        s.post(
            "/v1/fine_tuning/jobs",
            """
            {"model": "tiny-bert", "training_file": "%s", "suffix": "ner", "seed": 7,
             "method": {"type": "supervised", "supervised": {"hyperparameters":
                {"n_epochs": 60, "batch_size": 4, "learning_rate_multiplier": 60}}},
             "whet": {"max_length": 48, "dropout": 0, "warmup": 0, "holdout": 0}}
            """
                .formatted(file),
            s.key);
    assertEquals(200, created.status(), created.body());
    return finished(created.json().get("id").asText(), "the tagger job");
  }

  /**
   * A classifier that a cheaper method clearly beats: each label is a keyword TF-IDF picks up at
   * once, while a barely trained tiny model answers near chance. Without a validation file the
   * service holds a tenth out to evaluate on.
   */
  private static String losingJob() throws Exception {
    List<String> lines = new ArrayList<>();
    String[] words = {"alpha", "beta", "gamma"};
    for (int i = 0; i < 300; i++) {
      String label = words[i % 3];
      lines.add(
          TestServer.JSON.writeValueAsString(
              java.util.Map.of("text", "item " + i + " is " + label, "label", label)));
    }
    String file =
        s.uploadText("keywords.jsonl", String.join("\n", lines) + "\n").json().get("id").asText();
    TestServer.Response created =
        s.post(
            "/v1/fine_tuning/jobs",
            """
            {"model": "tiny-bert", "training_file": "%s", "suffix": "lose",
             "method": {"type": "supervised", "supervised": {"hyperparameters":
                {"n_epochs": 1, "batch_size": 32, "learning_rate_multiplier": 0.001}}},
             "whet": {"max_length": 16}}
            """
                .formatted(file),
            s.key);
    assertEquals(200, created.status(), created.body());
    return finished(created.json().get("id").asText(), "the losing job");
  }

  /** Extracts a zip into {@code to}; the directory of its single top-level folder. */
  private static Path unzip(Path zip, Path to) throws Exception {
    Path top = null;
    try (var in = new java.util.zip.ZipInputStream(Files.newInputStream(zip))) {
      for (var e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        Path out = to.resolve(e.getName()).normalize();
        assertTrue(out.startsWith(to), "entry inside the zip's folder: " + e.getName());
        Files.createDirectories(out.getParent());
        Files.copy(in, out);
        top = to.resolve(Path.of(e.getName()).getName(0));
      }
    }
    return top;
  }

  /** A sentence-similarity model trained through the API on STS-B pairs, one short epoch. */
  private static String similarityJob() throws Exception {
    List<String> pairs = ServerJobsTest.stsPairs();
    String train =
        s.uploadText("sts-train.jsonl", String.join("\n", pairs.subList(0, 120)) + "\n")
            .json()
            .get("id")
            .asText();
    String val =
        s.uploadText("sts-val.jsonl", String.join("\n", pairs.subList(120, 160)) + "\n")
            .json()
            .get("id")
            .asText();
    TestServer.Response created =
        s.post(
            "/v1/fine_tuning/jobs",
            """
            {"model": "tiny-bert", "training_file": "%s", "validation_file": "%s",
             "suffix": "sts", "method": {"type": "supervised", "supervised":
                {"hyperparameters": {"n_epochs": 1, "batch_size": 16}}},
             "whet": {"max_length": 48}}
            """
                .formatted(train, val),
            s.key);
    assertEquals(200, created.status(), created.body());
    return finished(created.json().get("id").asText(), "the similarity job");
  }

  /** A DPO job on TinyStories-656K with the style set's preference pairs, finished. */
  private static String dpoJob() throws Exception {
    String[] ids = new String[2];
    String[] names = {"prefs_train.jsonl", "prefs_val.jsonl"};
    for (int i = 0; i < 2; i++) {
      ids[i] =
          s.uploadText(names[i], Files.readString(ServerSftTest.DATA.resolve(names[i])))
              .json()
              .get("id")
              .asText();
    }
    TestServer.Response created =
        s.post(
            "/v1/fine_tuning/jobs",
            """
            {"model": "stories", "training_file": "%s", "validation_file": "%s",
             "suffix": "prefs", "method": {"type": "dpo", "dpo": {"hyperparameters":
                {"beta": 0.1, "n_epochs": 6, "batch_size": 8, "learning_rate_multiplier": 100}}},
             "whet": {"max_length": 64, "precision": "fp32", "lora": {"rank": 8, "dropout": 0},
                      "sft": {"generate_eval": 2, "max_new_tokens": 8, "shots": 2}}}
            """
                .formatted(ids[0], ids[1]),
            s.key);
    assertEquals(200, created.status(), created.body());
    return finished(created.json().get("id").asText(), "the DPO job");
  }

  /** Waits for a job to succeed; fails the test if it fails, is cancelled or takes 4 minutes. */
  private static String finished(String id, String what) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
    while (System.nanoTime() < deadline) {
      String status = s.get("/v1/fine_tuning/jobs/" + id, s.key).json().get("status").asText();
      if (status.equals("succeeded")) return id;
      assertFalse(List.of("failed", "cancelled").contains(status), what + " " + status);
      Thread.sleep(200);
    }
    throw new AssertionError(what + " did not finish");
  }

  private static String upload(Browser b, WebDriverWait wait, Path file, String expect)
      throws Exception {
    var d = b.driver;
    d.findElement(By.id("upload-file")).sendKeys(file.toString());
    wait.until(
        x -> {
          String v = text(x.findElement(By.id("validation")));
          return v.contains("Valid:") && v.contains(file.getFileName().toString());
        });
    assertTrue(text(d.findElement(By.id("validation"))).contains(expect));
    shot(b, "upload-" + file.getFileName().toString().replace(".jsonl", ""));
    d.findElement(By.id("upload-button")).click();
    return text(wait.until(x -> x.findElement(By.cssSelector("#uploaded-file .file-id"))));
  }

  // Read in one script call: the page redraws these elements, so a held reference goes stale.
  private static int points(org.openqa.selenium.WebDriver d, String chart) {
    Object n =
        ((JavascriptExecutor) d)
            .executeScript(
                "const s = document.querySelector(`svg[data-chart='${arguments[0]}']`);"
                    + " return s ? Number(s.dataset.points) : 0;",
                chart);
    return ((Number) n).intValue();
  }

  /** The visible text of the first element matching {@code css}, or "" when there is none. */
  /**
   * Waits for the page of a job just submitted from the form (not {@code previousJob}'s), or fails
   * with the form's error; creation can take a while on a loaded 2-core machine. If neither comes,
   * every thread of this JVM (the server's virtual request threads included) is dumped for the
   * cause: this wait timed out twice in full-suite runs and never alone.
   */
  private static void awaitNewJobPage(org.openqa.selenium.WebDriver d, String previousJob)
      throws java.io.IOException {
    try {
      new WebDriverWait(d, Duration.ofSeconds(60))
          .until(
              x ->
                  (x.getCurrentUrl().contains("#/jobs/ftjob-")
                          && !x.getCurrentUrl().endsWith(previousJob))
                      || !x.findElements(By.cssSelector("#main .flash.error")).isEmpty());
    } catch (org.openqa.selenium.TimeoutException e) {
      Path dump = Path.of("target", "dashboard-new-job-threads.txt").toAbsolutePath();
      java.nio.file.Files.deleteIfExists(dump);
      java.lang.management.ManagementFactory.getPlatformMXBean(
              com.sun.management.HotSpotDiagnosticMXBean.class)
          .dumpThreads(
              dump.toString(),
              com.sun.management.HotSpotDiagnosticMXBean.ThreadDumpFormat.TEXT_PLAIN);
      System.out.println(java.nio.file.Files.readString(dump));
      throw new AssertionError(
          "threads dumped to "
              + dump
              + "; no new job page after 60 s; at "
              + d.getCurrentUrl()
              + " the page says: "
              + textOf(d, "#main"),
          e);
    }
    assertTrue(
        d.getCurrentUrl().contains("#/jobs/ftjob-"),
        "the job was not created: " + textOf(d, "#main .flash.error"));
  }

  private static String textOf(org.openqa.selenium.WebDriver d, String css) {
    Object t =
        ((JavascriptExecutor) d)
            .executeScript(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText ?? e.textContent : '';",
                css);
    return ((String) t).strip();
  }

  private static String status(org.openqa.selenium.WebDriver d) {
    Object s =
        ((JavascriptExecutor) d)
            .executeScript(
                "const b = document.querySelector('.title-main .badge');"
                    + " return b ? b.textContent : '';");
    return (String) s;
  }

  /** With {@code -Dwhet.dashboard.screenshots=DIR}, saves what the browser shows, for a look. */
  private static void shot(Browser b, String name) throws Exception {
    String dir = System.getProperty("whet.dashboard.screenshots");
    if (dir != null) {
      Files.createDirectories(Path.of(dir));
      Files.write(Path.of(dir, name + ".png"), b.driver.getScreenshotAs(OutputType.BYTES));
    }
  }

  private static String text(WebElement e) {
    return e.getText();
  }
}
