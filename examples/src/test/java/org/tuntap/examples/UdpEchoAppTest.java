package org.tuntap.examples;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The example's default run, in every mode a newcomer can pick, as the README runs it. */
class UdpEchoAppTest {

    @ParameterizedTest
    @CsvSource({"tun,false", "tun,true", "tap,false", "tap,true"})
    void echoesEveryDatagramOverTheInMemoryTunnel(String mode, boolean packetInfo) throws Exception {
        File pcap = File.createTempFile("udp-echo", ".pcap");
        try {
            String[] args = packetInfo
                    ? new String[] {"memory", "--mode", mode, "--pi", "--pcap", pcap.getPath()}
                    : new String[] {"memory", "--mode", mode, "--pcap", pcap.getPath()};
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            int status = UdpEchoApp.runInMemory(EchoOptions.parse(args), new PrintStream(output, true, StandardCharsets.UTF_8));
            String printed = output.toString(StandardCharsets.UTF_8);

            assertEquals(0, status, printed);
            assertTrue(printed.contains("echo   198.51.100.2:7 -> 192.0.2.1:21345  \"hello, tunnel\""), printed);
            assertTrue(printed.contains("3 of 3 datagrams echoed"), printed);
            assertEquals(6, pcapRecords(Files.readAllBytes(pcap.toPath())), "3 datagrams in, 3 echoes out");
        } finally {
            Files.deleteIfExists(pcap.toPath());
        }
    }

    /** Counts the records of a big-endian pcap file (as Netty's PcapWriteHandler writes it). */
    private static int pcapRecords(byte[] capture) {
        ByteBuffer file = ByteBuffer.wrap(capture);
        assertEquals(0xa1b2c3d4, file.getInt(0), "pcap magic");
        int records = 0;
        for (int at = 24; at < capture.length; records++) {
            int captured = file.getInt(at + 8);
            at += 16 + captured;
            assertTrue(at <= capture.length, "record " + records + " fits the file");
        }
        return records;
    }
}
