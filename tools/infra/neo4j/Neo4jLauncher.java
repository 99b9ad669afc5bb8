import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

/**
 * Runs Neo4j Community embedded with only the Bolt connector, so development machines
 * without Docker still get a real Neo4j that the JavaScript driver can talk to.
 *
 * Usage: Neo4jLauncher <home-dir> <bolt-port>; the password for user "neo4j" comes from
 * the NEO4J_LAUNCHER_PASSWORD environment variable so it never shows up in `ps`.
 */
public final class Neo4jLauncher {
    private Neo4jLauncher() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: Neo4jLauncher <home-dir> <bolt-port>");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        String password = System.getenv("NEO4J_LAUNCHER_PASSWORD");
        if (password == null || password.length() < 8) {
            // Neo4j rejects passwords shorter than 8 characters; fail before touching the store.
            System.err.println("NEO4J_LAUNCHER_PASSWORD must be set (at least 8 characters)");
            System.exit(2);
        }

        // Chosen (and validated) by tools/infra/neo4j.ts, which also sets the heap: no second default here.
        String pagecache = System.getenv("NEO4J_LAUNCHER_PAGECACHE_MB");
        if (pagecache == null || !pagecache.matches("[0-9]+")) {
            System.err.println("NEO4J_LAUNCHER_PAGECACHE_MB must be set to a whole number of MB");
            System.exit(2);
        }
        long pagecacheMb = Long.parseLong(pagecache);

        DatabaseManagementService service = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, true)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pagecacheMb))
                // Neo4j keeps two days of transaction logs by default: a few bench:context runs wrote 65 GB of them and
                // filled the disk. This store is for development and tests, so keep little (pruned at checkpoints).
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "256M size")
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("Neo4jLauncher: shutting down");
            service.shutdown();
            stopped.countDown();
        }, "neo4j-launcher-shutdown"));

        setPassword(service, password);
        // Warm the default database so the first Bolt session does not pay for it.
        service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");
        System.out.println("Neo4jLauncher: ready bolt://127.0.0.1:" + port);
        stopped.await();
    }

    private static void setPassword(DatabaseManagementService service, String password) {
        // Embedded transactions run with full privileges, so the system database accepts
        // user management; this replaces `neo4j-admin dbms set-initial-password`.
        String literal = "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'";
        try {
            service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME)
                    .executeTransactionally("ALTER USER neo4j SET PASSWORD " + literal + " CHANGE NOT REQUIRED");
        } catch (RuntimeException e) {
            // Setting the current password again is refused by some versions; that is fine.
            System.out.println("Neo4jLauncher: password unchanged (" + e.getMessage() + ")");
        }
    }
}
