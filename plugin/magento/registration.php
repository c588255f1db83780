<?php
/**
 * Treue loyalty module for Magento 2.
 */
declare(strict_types=1);

use Magento\Framework\Component\ComponentRegistrar;

ComponentRegistrar::register(ComponentRegistrar::MODULE, 'Treue_Loyalty', __DIR__);
