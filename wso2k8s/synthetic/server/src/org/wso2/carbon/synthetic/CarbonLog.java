package org.wso2.carbon.synthetic;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * Carbon-style logging: the log4j pattern of Carbon 4.4 ("[%d] %5p {%c} - %x %m%n"), written to
 * stdout (what `kubectl logs` shows) and to repository/logs/wso2carbon.log, like the real
 * CARBON_CONSOLE and CARBON_LOGFILE appenders. No java.util.logging, to keep the module set small.
 */
final class CarbonLog {
    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");
    private static final PrintStream OUT = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    private static OutputStream file;

    private CarbonLog() {
    }

    /** Opens the log file; a read-only CARBON_HOME only loses the file copy, never the console. */
    static synchronized void init(Path carbonHome) {
        Path logFile = carbonHome.resolve("repository/logs/wso2carbon.log");
        try {
            Files.createDirectories(logFile.getParent());
            file = Files.newOutputStream(logFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            file = null;
            warn("org.wso2.carbon.core.init.CarbonServerManager",
                    "Cannot write " + logFile + " (" + e + "); logging to the console only");
        }
    }

    static void info(String category, String message) {
        write(" INFO", category, message);
    }

    static void warn(String category, String message) {
        write(" WARN", category, message);
    }

    static void error(String category, String message) {
        write("ERROR", category, message);
    }

    private static synchronized void write(String level, String category, String message) {
        String line = "[" + LocalDateTime.now().format(TS) + "] " + level + " {" + category + "} -  " + message;
        OUT.println(line);
        if (file != null) {
            try {
                file.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                file.flush();
            } catch (IOException e) {
                file = null;
                OUT.println("[" + LocalDateTime.now().format(TS) + "]  WARN {" + CarbonLog.class.getName()
                        + "} -  log file write failed, console only from now on: " + e);
            }
        }
    }
}
