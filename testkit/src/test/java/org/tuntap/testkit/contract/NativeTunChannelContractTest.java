package org.tuntap.testkit.contract;

import org.junit.jupiter.api.Tag;

/** The channel contract on the native layer: a real device on Netty's epoll loop. */
@Tag("netns")
class NativeTunChannelContractTest extends TunChannelContractTest {
    @Override
    protected TunFixture newFixture() {
        return new NativeTunFixture();
    }
}
