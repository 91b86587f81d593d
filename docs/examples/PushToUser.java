// The backend side of docs/stomp.md: what replaces
// messagingTemplate.convertAndSendToUser(userId, "/queue/notify", payload).
// Java 11+ only (java.net.http); the JSON body is written by hand to need no library.
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

public class PushToUser {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** POST /v1/users/{userId}/messages: every STOMP session of the user subscribed to /user/queue/{event} gets dataJson. */
  static HttpResponse<String> push(String base, String apiKey, String userId, String event, String dataJson) throws Exception {
    String body = "{\"event\":\"" + event + "\",\"data\":" + dataJson + "}";
    HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v1/users/" + URLEncoder.encode(userId, StandardCharsets.UTF_8) + "/messages"))
        .header("Authorization", "Bearer " + apiKey)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
  }

  public static void main(String[] args) throws Exception {
    // args: base URL, API key, userId, event, data as JSON
    HttpResponse<String> response = push(args[0], args[1], args[2], args[3], args[4]);
    System.out.println(response.statusCode() + " " + response.body());
  }
}
