#!/bin/sh
# ----------------------------------------------------------------------------
#  Main Script for the WSO2 Carbon Server -- SYNTHETIC PACK
#
#  This pack mimics WSO2 Identity Server 5.1.0 for tests and demos: same layout,
#  same configuration files, same ports. The server it starts is a small Java
#  program (lib/@@SERVER_JAR@@) that reads repository/conf like the
#  real product does. It is not WSO2 Identity Server.
#
# Environment Variable Prequisites
#
#   CARBON_HOME     Home of WSO2 Carbon installation. If not set I will try
#                   to figure it out.
#
#   JAVA_HOME       Should point at your Java installation. If not set, the
#                   java found on the PATH is used.
#
#   JAVA_OPTS       (Optional) Java runtime options used when the command
#                   is executed.
#
#   JVM_MEM_OPTS    (Optional) Java memory options (default -Xms32m -Xmx256m).
# -----------------------------------------------------------------------------

# resolve links - $0 may be a softlink
PRG="$0"

while [ -h "$PRG" ]; do
  ls=`ls -ld "$PRG"`
  link=`expr "$ls" : '.*-> \(.*\)$'`
  if expr "$link" : '.*/.*' > /dev/null; then
    PRG="$link"
  else
    PRG=`dirname "$PRG"`/"$link"
  fi
done

# Get standard environment variables
PRGDIR=`dirname "$PRG"`

# Only set CARBON_HOME if not already set
[ -z "$CARBON_HOME" ] && CARBON_HOME=`cd "$PRGDIR/.." ; pwd`

if [ -z "$JAVACMD" ] ; then
  if [ -n "$JAVA_HOME" ] ; then
    JAVACMD="$JAVA_HOME/bin/java"
  else
    JAVACMD=`command -v java`
  fi
fi

if [ -z "$JAVACMD" ] || [ ! -x "$JAVACMD" ] ; then
  echo "Error: JAVA_HOME is not defined correctly and no java is on the PATH."
  echo " CARBON cannot execute ${JAVACMD:-java}"
  exit 1
fi

# ----- Process the input command ----------------------------------------------
args=""
for c in "$@"
do
    if [ "$c" = "--version" ] || [ "$c" = "-version" ] || [ "$c" = "version" ]; then
          cat "$CARBON_HOME"/bin/version.txt
          cat "$CARBON_HOME"/bin/wso2carbon-version.txt
          exit 0
    elif [ "$c" = "--stop" ] || [ "$c" = "-stop" ] || [ "$c" = "stop" ]; then
          kill -TERM `cat "$CARBON_HOME"/wso2carbon.pid`
          exit 0
    elif [ "$c" = "--start" ] || [ "$c" = "-start" ] || [ "$c" = "start" ]; then
          echo "Background start is not supported by the synthetic pack: run bin/wso2server.sh in the foreground."
          exit 1
    fi
done

# ----- Execute The Requested Command -----------------------------------------

if [ -n "$JAVA_HOME" ]; then
  echo JAVA_HOME environment variable is set to $JAVA_HOME
else
  echo JAVA_HOME is not set, using $JAVACMD
fi
echo CARBON_HOME environment variable is set to "$CARBON_HOME"

cd "$CARBON_HOME"

# The server jar, and Carbon's Hazelcast bundle (OSGi wires it for the real server).
CARBON_CLASSPATH="$CARBON_HOME/lib/@@SERVER_JAR@@"
for jar in "$CARBON_HOME"/repository/components/plugins/hazelcast_*.jar; do
  [ -f "$jar" ] && CARBON_CLASSPATH="$CARBON_CLASSPATH:$jar"
done

if [ -z "$JVM_MEM_OPTS" ]; then
   JVM_MEM_OPTS="-Xms32m -Xmx256m"
fi
echo "Using Java memory options: $JVM_MEM_OPTS"

# exec: the JVM replaces this shell, so it is PID 1 in a container and gets SIGTERM directly.
# Program arguments of the form -Dkey=value become system properties (as with Carbon's Bootstrap).
# Names resolve through the system's resolver, as Carbon's do: a profile calls its peers by their Service names.
exec "$JAVACMD" \
    $JVM_MEM_OPTS \
    -XX:+HeapDumpOnOutOfMemoryError \
    -XX:HeapDumpPath="$CARBON_HOME/repository/logs/heap-dump.hprof" \
    $JAVA_OPTS \
    -Dcarbon.home="$CARBON_HOME" \
    -Dcarbon.config.dir.path="$CARBON_HOME/repository/conf" \
    -Dcomponents.repo="$CARBON_HOME/repository/components/plugins" \
    -Dconf.location="$CARBON_HOME/repository/conf" \
    -Dwso2.server.standalone=true \
    -Djava.security.egd=file:/dev/./urandom \
    -Dfile.encoding=UTF8 \
    -Djava.net.preferIPv4Stack=true \
    -classpath "$CARBON_CLASSPATH" \
    @@SERVER_MAIN_CLASS@@ "$@"
